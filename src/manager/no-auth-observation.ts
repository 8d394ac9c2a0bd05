import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import { readSafeFile } from '../file-safety.js';
import type { Logger } from '../logger.js';
import type { CredentialKey } from '../store/credential-store.js';
import { fileNameFor } from '../store/file-names.js';

/** The folder of the home that holds the observations (not credentials: nothing secret in it). */
export const OBSERVATIONS_FOLDER = 'observations';

/** What was seen: this server URL answered a request that carried no credential. */
export interface NoAuthObservation {
  serverUrl: string;
  /** Epoch ms. */
  observedAt: number;
}

/**
 * The `no_auth` observations: a server that answered an MCP request sent without any credential
 * (2xx) needs no login. Kept beside the credential records, not in them: it is not a credential,
 * has no secret, and must not disturb the record's compare-and-set versions. In memory always;
 * with a home also in `observations/<record file name>.json`, so `mcp-oauth status` in another
 * process sees it. Bound to the server URL it was made for (a new URL is a new server). A later
 * 401 to an unauthenticated request clears it, and the normal login flow starts.
 */
export class NoAuthObservations {
  private readonly memory = new Map<string, NoAuthObservation | null>();
  /** Writes in flight: a read waits for this process's own last note. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    private readonly home: string | undefined,
    private readonly logger: Logger,
  ) {}

  private fileOf(key: CredentialKey): string | undefined {
    return this.home ? join(this.home, OBSERVATIONS_FOLDER, `${fileNameFor(key)}.json`) : undefined;
  }

  /** The observation for `key` at `serverUrl`, reading the home's file (undefined when none). */
  async read(key: CredentialKey, serverUrl: string): Promise<NoAuthObservation | undefined> {
    const id = fileNameFor(key);
    await this.writes.get(id);
    let found = this.memory.get(id);
    const file = this.fileOf(key);
    if (file) {
      try {
        const read = await readSafeFile(file, 'the no_auth observation');
        const parsed = read
          ? (JSON.parse(read.bytes.toString('utf8')) as Partial<NoAuthObservation>)
          : undefined;
        found =
          parsed && typeof parsed.serverUrl === 'string' && typeof parsed.observedAt === 'number'
            ? { serverUrl: parsed.serverUrl, observedAt: parsed.observedAt }
            : null;
      } catch (error) {
        // Only a hint for status: an unreadable one counts as none.
        this.logger.debug(
          `no_auth observation unreadable (${error instanceof Error ? error.message : error})`,
        );
        found = null;
      }
      this.memory.set(id, found);
    }
    return found && found.serverUrl === serverUrl ? found : undefined;
  }

  /** Known in this process without I/O (the provider's hot path asks this). */
  knownNoAuth(key: CredentialKey, serverUrl: string): boolean {
    const found = this.memory.get(fileNameFor(key));
    return found !== undefined && found !== null && found.serverUrl === serverUrl;
  }

  /** Records (`observed`) or clears the observation; writes only on a change. Never throws. */
  async note(key: CredentialKey, serverUrl: string, observed: boolean, now: number): Promise<void> {
    const id = fileNameFor(key);
    const known = this.knownNoAuth(key, serverUrl);
    if (known === observed && this.memory.has(id)) return;
    this.memory.set(id, observed ? { serverUrl, observedAt: now } : null);
    const file = this.fileOf(key);
    if (!file) return;
    const previous = this.writes.get(id) ?? Promise.resolve();
    const write = previous.then(() => this.write(file, serverUrl, observed, now));
    this.writes.set(id, write);
    await write;
    if (this.writes.get(id) === write) this.writes.delete(id);
  }

  private async write(file: string, serverUrl: string, observed: boolean, now: number): Promise<void> {
    try {
      if (observed) {
        await fs.mkdir(join(this.home!, OBSERVATIONS_FOLDER), { recursive: true, mode: 0o700 });
        await writeFileAtomic(file, `${JSON.stringify({ serverUrl, observedAt: now })}\n`);
      } else {
        await fs.rm(file, { force: true });
      }
    } catch (error) {
      this.logger.debug(`no_auth observation not saved (${error instanceof Error ? error.message : error})`);
    }
  }
}
