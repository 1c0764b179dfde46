import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionError, parseCommandLine, parseOptions, queenOptions } from '../../../services/options/index.js';
import { etcdSecurity } from '../../../services/store/etcd-security.js';

/** The queen's etcd options as the command line and the environment give them, and what etcd3 is opened with. */

const dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-etcd-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const at = path.join(dir, name);
  writeFileSync(at, text);
  return at;
};
const ca = file('ca.pem', 'the CA');
const cert = file('queen.pem', 'the certificate');
const key = file('queen-key.pem', 'the key');
const ETCD = ['--etcd', 'https://10.0.0.1:2379'];

function securityOf(argv: string[], env: Record<string, string> = {}) {
  const result = parseOptions(queenOptions, { argv, env });
  if (result.help) throw new Error('unexpected --help');
  return etcdSecurity(result.options);
}

function refusal(argv: string[], env: Record<string, string> = {}): OptionError | undefined {
  try {
    securityOf(argv, env);
    return undefined;
  } catch (error) {
    if (error instanceof OptionError) return error;
    throw error;
  }
}

describe('etcd security options', () => {
  it('opens etcd with nothing more when none is given', () => {
    expect(securityOf(ETCD)).toEqual({});
    expect(securityOf([])).toEqual({});
  });

  it('reads the CA, the client certificate and its key as etcd3 takes them', () => {
    const security = securityOf([...ETCD, '--etcd-ca', ca, '--etcd-cert', cert, '--etcd-key', key]);
    expect(security.credentials?.rootCertificate.toString()).toBe('the CA');
    expect(security.credentials?.certChain?.toString()).toBe('the certificate');
    expect(security.credentials?.privateKey?.toString()).toBe('the key');
    expect(securityOf([...ETCD, '--etcd-ca', ca]).credentials).toEqual({ rootCertificate: Buffer.from('the CA') });
  });

  it('takes the etcd user and password from the environment', () => {
    const env = { APIARY_ETCD_USER: 'apiary-queen', APIARY_ETCD_PASSWORD: 'hunter2' };
    expect(securityOf(ETCD, env)).toEqual({ auth: { username: 'apiary-queen', password: 'hunter2' } });
  });

  it.each([
    [['--etcd-cert', cert, '--etcd-ca', ca], 'etcd-key'],
    [['--etcd-key', key, '--etcd-ca', ca], 'etcd-cert'],
    [['--etcd-cert', cert, '--etcd-key', key], 'etcd-ca'],
    [['--etcd-user', 'apiary-queen'], 'etcd-password'],
    [['--etcd-password', 'hunter2'], 'etcd-user'],
    [['--etcd-ca', path.join(dir, 'missing.pem')], 'etcd-ca'],
  ])('refuses %j naming --%s', (argv, flag) => {
    const error = refusal([...ETCD, ...argv]);
    expect(error?.flag).toBe(flag);
    expect(error?.message).not.toContain('hunter2');
  });

  it('refuses etcd options without --etcd', () => {
    expect(refusal(['--etcd-ca', ca])?.flag).toBe('etcd-ca');
  });

  it('exits 2 with one line naming the flag when the queen parses its command line', () => {
    const err: string[] = [];
    let code: number | undefined;
    const parse = () =>
      parseCommandLine(
        queenOptions,
        {
          command: 'apiary-queen',
          summary: 'The queen under test.',
          argv: [...ETCD, '--etcd-user', 'apiary-queen'],
          env: {},
          exit: (exitCode) => {
            code = exitCode;
            throw new Error('exited');
          },
          err: (text) => err.push(text),
        },
        (options) => void etcdSecurity(options),
      );
    expect(parse).toThrow('exited');
    expect(code).toBe(2);
    expect(err).toEqual(['apiary-queen: --etcd-password: is needed with --etcd-user\n']);
  });
});
