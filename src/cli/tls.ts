/**
 * A certificate and key from the command line, checked before anything listens: a file that is
 * missing, not PEM, not parseable, or a key that does not belong to the certificate is named with
 * what is wrong, instead of the OpenSSL code Node's TLS server would fail with later.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/** `flags` names the options for messages: `['--tls-cert', '--tls-key']`. */
export function readTlsFiles(certFile: string, keyFile: string, flags: readonly [string, string]): TlsFiles {
  const [certFlag, keyFlag] = flags;
  const cert = read(certFile, certFlag);
  const key = read(keyFile, keyFlag);
  const certText = cert.toString('latin1');
  if (!certText.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`${certFlag} ${certFile}: not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`, {
      hint: /PRIVATE KEY-----/.test(certText) ? `this looks like a private key: give it to ${keyFlag}` : 'give the certificate in PEM form',
    });
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new UsageError(`${certFlag} ${certFile}: the certificate cannot be read (${reason(err)})`, { cause: err });
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) {
    throw new UsageError(`${keyFlag} ${keyFile}: not a PEM private key (no "-----BEGIN ... PRIVATE KEY-----" line)`, {
      hint: key.toString('latin1').includes('-----BEGIN CERTIFICATE-----') ? `this is a certificate: give it to ${certFlag}` : 'give the private key in PEM form',
    });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new UsageError(`${keyFlag} ${keyFile}: the private key cannot be read (${reason(err)})`, {
      hint: /passphrase/i.test(reason(err)) ? 'an encrypted key is not supported: decrypt it (openssl pkey -in key.pem -out plain.pem)' : undefined,
      cause: err,
    });
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new UsageError(`${keyFlag} ${keyFile} is not the key of the certificate in ${certFlag} ${certFile}`, { hint: 'give the key the certificate was issued for' });
  }
  return { cert, key };
}

function read(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`, { cause: err });
  }
}

/** OpenSSL's text without its code: `error:1E08010C:DECODER routines::unsupported` -> `unsupported`. */
function reason(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  return message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/, '').trim() || message;
}
