import { readFileSync } from 'node:fs';
import { OptionError } from '../options/option-error.js';

/**
 * How a queen proves itself to etcd, from its options: client TLS (`--etcd-ca`, and `--etcd-cert` with `--etcd-key`)
 * and etcd's own users (`--etcd-user` with `--etcd-password`, best given as APIARY_ETCD_USER / APIARY_ETCD_PASSWORD).
 * etcd decides who leads, so whoever may write to it could send every hive elsewhere: it must be as private as the token.
 */

/** What every etcd client of the queen is opened with, as etcd3 takes it. */
export interface EtcdSecurity {
  credentials?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer };
  auth?: { username: string; password: string };
}

export interface EtcdSecurityOptions {
  etcd: readonly string[];
  etcdCa?: string | undefined;
  etcdCert?: string | undefined;
  etcdKey?: string | undefined;
  etcdUser?: string | undefined;
  etcdPassword?: string | undefined;
}

/** The security the options ask for; an OptionError naming the flag for a missing partner or an unreadable file. */
export function etcdSecurity(options: EtcdSecurityOptions): EtcdSecurity {
  const given = [
    ['etcd-ca', options.etcdCa],
    ['etcd-cert', options.etcdCert],
    ['etcd-key', options.etcdKey],
    ['etcd-user', options.etcdUser],
    ['etcd-password', options.etcdPassword],
  ] as const;
  const stray = given.find(([, value]) => value !== undefined);
  if (stray && options.etcd.length === 0) throw new OptionError(stray[0], 'only means something with --etcd');
  requirePartner('etcd-cert', options.etcdCert, 'etcd-key', options.etcdKey);
  requirePartner('etcd-key', options.etcdKey, 'etcd-cert', options.etcdCert);
  requirePartner('etcd-cert', options.etcdCert, 'etcd-ca', options.etcdCa);
  requirePartner('etcd-user', options.etcdUser, 'etcd-password', options.etcdPassword);
  requirePartner('etcd-password', options.etcdPassword, 'etcd-user', options.etcdUser);
  const security: EtcdSecurity = {};
  if (options.etcdCa !== undefined) {
    security.credentials = {
      rootCertificate: readOption('etcd-ca', options.etcdCa),
      ...(options.etcdCert !== undefined && options.etcdKey !== undefined
        ? { certChain: readOption('etcd-cert', options.etcdCert), privateKey: readOption('etcd-key', options.etcdKey) }
        : {}),
    };
  }
  if (options.etcdUser !== undefined && options.etcdPassword !== undefined) {
    security.auth = { username: options.etcdUser, password: options.etcdPassword };
  }
  return security;
}

function requirePartner(flag: string, value: string | undefined, partner: string, partnerValue: string | undefined) {
  if (value !== undefined && partnerValue === undefined) throw new OptionError(partner, `is needed with --${flag}`);
}

function readOption(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new OptionError(flag, `cannot read ${file} (${code})`);
  }
}
