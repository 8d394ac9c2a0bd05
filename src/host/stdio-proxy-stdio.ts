import { type JSONRPCMessage, ReadBuffer, serializeMessage } from '@modelcontextprotocol/client';

/**
 * The largest message a host may write to the proxy (one line of JSON). Far above what hosts
 * send (a tool call's arguments); the SDK's default of 10 MB would cut large ones.
 */
export const MAX_HOST_MESSAGE_BYTES = 256 * 1024 * 1024;

/** The host side of the proxy: newline-delimited JSON-RPC on stdin and stdout (MCP stdio transport). */
export interface HostLink {
  /** Writes one message to the host; false once stdout is gone (the host went away). */
  write(message: JSONRPCMessage): boolean;
  /** Resolves when stdin ends (the host closed it, or died). */
  readonly ended: Promise<void>;
}

/**
 * Reads messages from `stdin` (each line one JSON-RPC message, through the SDK's ReadBuffer) and
 * hands them to `onMessage` in order; a line that is not JSON-RPC goes to `onBadLine` (the proxy
 * answers nothing: there is no id to answer). Writes to `stdout` only serialized messages, so
 * stdout carries nothing but the protocol.
 *
 * @see [MCP Transports: stdio](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio)
 */
export function openHostLink(
  stdin: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream,
  onMessage: (message: JSONRPCMessage) => void,
  onBadLine: (error: Error) => void,
): HostLink {
  const buffer = new ReadBuffer({ maxBufferSize: MAX_HOST_MESSAGE_BYTES });
  let open = true;
  const ended = new Promise<void>((resolve) => {
    const end = () => {
      open = false;
      resolve();
    };
    stdin.once('end', end);
    stdin.once('close', end);
    stdin.once('error', end);
  });
  stdin.on('data', (chunk: Buffer | string) => {
    try {
      buffer.append(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    } catch (error) {
      onBadLine(error as Error);
      return;
    }
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = buffer.readMessage();
      } catch (error) {
        onBadLine(error as Error);
        continue;
      }
      if (message === null) break;
      onMessage(message);
    }
  });
  stdout.on('error', () => {
    open = false;
  });
  return {
    ended,
    write(message) {
      if (!open) return false;
      stdout.write(serializeMessage(message));
      return true;
    },
  };
}
