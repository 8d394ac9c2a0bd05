import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const childScript = fileURLToPath(new URL('./child-host.ts', import.meta.url));

export interface Child {
  process: ChildProcess;
  /** Sends a command and resolves with the next message of `replyType`. */
  request<T = Record<string, unknown>>(command: Record<string, unknown>, replyType: string): Promise<T>;
  next<T = Record<string, unknown>>(replyType: string): Promise<T>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** Forks a child host (real process, tsx loader; `script` speaks child-host.ts's protocol) and waits until it is ready. */
export async function startChild(env: Record<string, string>, script = childScript): Promise<Child> {
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, Array<(m: Record<string, unknown>) => void>>();
  const queued = new Map<string, Array<Record<string, unknown>>>();
  child.on('message', (message: Record<string, unknown>) => {
    const type = String(message.type);
    const resolvers = waiting.get(type);
    if (resolvers?.length) resolvers.shift()!(message);
    else queued.set(type, [...(queued.get(type) ?? []), message]);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const next = <T>(replyType: string): Promise<T> => {
    const q = queued.get(replyType);
    if (q?.length) return Promise.resolve(q.shift() as T);
    return new Promise<T>((resolve, reject) => {
      waiting.set(replyType, [
        ...(waiting.get(replyType) ?? []),
        resolve as (m: Record<string, unknown>) => void,
      ]);
      exited.then(({ code, signal }) =>
        reject(new Error(`child exited (${code ?? signal}) before '${replyType}'`)),
      );
    });
  };
  await next('started');
  return {
    process: child,
    next,
    request: (command, replyType) => {
      const reply = next(replyType);
      child.send(command);
      return reply as never;
    },
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.send({ type: 'exit' });
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await exited;
    },
  };
}
