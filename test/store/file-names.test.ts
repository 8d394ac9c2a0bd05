import { describe, expect, it } from 'vitest';
import type { CredentialKey } from '../../src/store/credential-store.js';
import { fileNameFor } from '../../src/store/file-names.js';
import { UNSAFE_SERVER_NAMES } from './helpers.js';

describe('fileNameFor', () => {
  it('gives distinct, safe, short names for hostile server names', () => {
    const names = UNSAFE_SERVER_NAMES.map((server) => fileNameFor({ server }));
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name).toMatch(/^[a-z0-9-]{1,40}-[0-9a-f]{24}$/);
      expect(Buffer.byteLength(`${name}.corrupt-1700000000000-deadbeef.json`)).toBeLessThan(120);
      expect(name).not.toMatch(/^(con|prn|aux|nul|com\d|lpt\d)$/i);
    }
  });

  it('keeps a readable slug', () => {
    expect(fileNameFor({ server: 'Notion.so' })).toMatch(/^notion-so-[0-9a-f]{24}$/);
    expect(fileNameFor({ server: 'notion', account: 'alice@example.com' })).toMatch(
      /^alice-example-com-notion-[0-9a-f]{24}$/,
    );
  });

  it('separates accounts, and an absent account from an empty one, and cannot be forged by separators', () => {
    const keys: CredentialKey[] = [
      { server: 'notion' },
      { server: 'notion', account: '' },
      { server: 'notion', account: 'alice' },
      { server: 'notion', account: 'bob' },
      { server: 'alice\u0000notion' },
      { server: 'alice-notion' },
      { server: 'notion', account: 'alice-' },
    ];
    const names = keys.map(fileNameFor);
    expect(new Set(names).size).toBe(keys.length);
  });

  it('is stable', () => {
    expect(fileNameFor({ server: 'notion' })).toBe(fileNameFor({ server: 'notion' }));
    expect(fileNameFor({ server: 'notion', account: undefined })).toBe(fileNameFor({ server: 'notion' }));
  });
});
