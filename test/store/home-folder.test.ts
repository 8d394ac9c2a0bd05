import { chmod, chown, mkdir, readdir, stat, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InsecureHomeError } from '../../src/errors.js';
import { ensureHome, resolveHome } from '../../src/home-folder.js';
import { FileCredentialStore } from '../../src/store/file-credential-store.js';
import { tempRoot } from './helpers.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('resolveHome', () => {
  const saved = process.env.MCP_OAUTH_HOME;
  afterEach(() => {
    if (saved === undefined) delete process.env.MCP_OAUTH_HOME;
    else process.env.MCP_OAUTH_HOME = saved;
  });

  it('prefers the explicit folder, then MCP_OAUTH_HOME, then ~/.mcp-oauth, always absolute', () => {
    process.env.MCP_OAUTH_HOME = '/tmp/from-env';
    expect(resolveHome('/tmp/explicit')).toBe('/tmp/explicit');
    expect(resolveHome()).toBe('/tmp/from-env');
    expect(resolveHome('relative/home')).toBe(join(process.cwd(), 'relative/home'));
    delete process.env.MCP_OAUTH_HOME;
    expect(resolveHome()).toBe(join(homedir(), '.mcp-oauth'));
    expect(resolveHome('~/x')).toBe(join(homedir(), 'x'));
  });
});

describe.skipIf(process.platform === 'win32')('ensureHome', () => {
  let root: string;
  let home: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ root, home, cleanup } = await tempRoot());
  });
  afterEach(async () => cleanup());

  it('creates home, credentials/ and locks/ with mode 0700 whatever the umask', async () => {
    const previous = process.umask(0o277);
    try {
      const folders = await ensureHome(join(home, 'nested'));
      expect(folders.credentialsDir).toBe(join(home, 'nested', 'credentials'));
      expect(folders.locksDir).toBe(join(home, 'nested', 'locks'));
      for (const dir of [folders.home, folders.credentialsDir, folders.locksDir])
        expect(await mode(dir)).toBe(0o700);
    } finally {
      process.umask(previous);
    }
  });

  it('is idempotent', async () => {
    await ensureHome(home);
    await expect(ensureHome(home)).resolves.toMatchObject({ home });
  });

  for (const bad of [0o777, 0o770, 0o722]) {
    it(`refuses an existing home with mode ${bad.toString(8)} and creates nothing inside it`, async () => {
      await mkdir(home);
      await chmod(home, bad);
      await expect(ensureHome(home)).rejects.toBeInstanceOf(InsecureHomeError);
      expect(await readdir(home)).toEqual([]);
      // The store refuses it too, on first use, and leaves the mode alone.
      const store = new FileCredentialStore({ home });
      await expect(store.get({ server: 'x' })).rejects.toMatchObject({ code: 'INSECURE_HOME' });
      await expect(FileCredentialStore.open({ home })).rejects.toBeInstanceOf(InsecureHomeError);
      expect(await readdir(home)).toEqual([]);
      expect(await mode(home)).toBe(bad);
    });
  }

  it('refuses a group-writable credentials subfolder', async () => {
    const folders = await ensureHome(home);
    await chmod(folders.credentialsDir, 0o770);
    await expect(ensureHome(home)).rejects.toMatchObject({
      code: 'INSECURE_HOME',
      path: folders.credentialsDir,
    });
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a home owned by another user', async () => {
    // Only root can hand a folder to another uid; elsewhere this case cannot be set up.
    await mkdir(home, { mode: 0o700 });
    await chown(home, 54321, 54321);
    await expect(ensureHome(home)).rejects.toMatchObject({ code: 'INSECURE_HOME', path: home });
    expect(await readdir(home)).toEqual([]);
  });

  it('follows a symlinked home and judges its target', async () => {
    const target = join(root, 'real-home');
    await mkdir(target, { mode: 0o700 });
    await chmod(target, 0o700);
    const link = join(root, 'link-home');
    await symlink(target, link);
    await ensureHome(link);
    expect((await readdir(target)).sort()).toEqual(['credentials', 'locks']);

    const openTarget = join(root, 'open-home');
    await mkdir(openTarget);
    await chmod(openTarget, 0o777);
    const openLink = join(root, 'open-link');
    await symlink(openTarget, openLink);
    await expect(ensureHome(openLink)).rejects.toBeInstanceOf(InsecureHomeError);
    expect(await readdir(openTarget)).toEqual([]);
  });

  it('the store starts lazily: the constructor touches nothing', async () => {
    const store = new FileCredentialStore({ home });
    await expect(stat(home)).rejects.toMatchObject({ code: 'ENOENT' });
    await store.list();
    expect(await mode(home)).toBe(0o700);
    await store.close();
  });
});
