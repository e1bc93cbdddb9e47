import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, CODE_LENGTH, formatCode, generateCode, generateToken, isPlausibleToken, normalizeTypedCode, TOKEN_LENGTH } from '../../server/domain/codes.ts';
import { createSecrets } from '../../server/security/secrets.ts';

describe('invitation codes', () => {
  it('are long enough: at least 60 bits typed, more for links', () => {
    expect(CODE_LENGTH * Math.log2(CODE_ALPHABET.length)).toBeGreaterThan(60);
    expect(TOKEN_LENGTH * Math.log2(64)).toBeGreaterThan(CODE_LENGTH * Math.log2(CODE_ALPHABET.length));
  });

  it('use no characters that look alike', () => {
    expect(CODE_ALPHABET).not.toMatch(/[01ILOU]/);
    const codes = Array.from({ length: 200 }, generateCode);
    for (const code of codes) expect(code).toMatch(new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`));
    expect(new Set(codes).size).toBe(200);
  });

  it.each([
    ['ABCD-EFGH-JKMN-PQRS', 'ABCDEFGHJKMNPQRS'],
    ['abcd efgh jkmn pqrs', 'ABCDEFGHJKMNPQRS'],
    ['  abcdefghjkmnpqrs ', 'ABCDEFGHJKMNPQRS'],
    ['ABCD-EFGH-JKMN-PQRU', 'ABCDEFGHJKMNPQRV'],
    ['ABCD-EFGH-JKMN-PQR', undefined],
    ['ABCD-EFGH-JKMN-PQRO', undefined],
    ['', undefined],
  ])('reads %j as %j', (typed, expected) => {
    expect(normalizeTypedCode(typed)).toBe(expected);
  });

  it('formats codes in groups of four for letters', () => {
    expect(formatCode('ABCDEFGHJKMNPQRS')).toBe('ABCD-EFGH-JKMN-PQRS');
  });

  it('recognises plausible link tokens only', () => {
    expect(isPlausibleToken(generateToken())).toBe(true);
    expect(isPlausibleToken('short')).toBe(false);
    expect(isPlausibleToken('x'.repeat(23) + '/')).toBe(false);
  });
});

describe('secrets', () => {
  const secrets = createSecrets('a-server-secret-of-sufficient-length-42');

  it('keeps purposes apart: the same value hashes differently per purpose', () => {
    expect(secrets.hmac('code-lookup', 'X')).not.toBe(secrets.hmac('draft-key', 'X'));
    expect(secrets.hmac('code-lookup', 'X')).toBe(secrets.hmac('code-lookup', 'X'));
  });

  it('encrypts so that only the same secret and purpose decrypt, and tampering is detected', () => {
    const sealed = secrets.encrypt('code-storage', 'ABCDEFGHJKMNPQRS');
    expect(sealed).not.toContain('ABCD');
    expect(secrets.decrypt('code-storage', sealed)).toBe('ABCDEFGHJKMNPQRS');
    expect(secrets.decrypt('session-cookie', sealed)).toBeUndefined();
    expect(createSecrets('another-secret-of-sufficient-length-42').decrypt('code-storage', sealed)).toBeUndefined();
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(secrets.decrypt('code-storage', tampered)).toBeUndefined();
    expect(secrets.decrypt('code-storage', 'not base64 at all!')).toBeUndefined();
  });

  it('refuses a short secret', () => {
    expect(() => createSecrets('short')).toThrow('at least 32 characters');
  });
});
