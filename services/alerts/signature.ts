import { createHmac } from 'node:crypto';

/** The `x-apiary-signature` header of a webhook body: `sha256=` and the hex HMAC-SHA256 of the body with the token. */
export const SIGNATURE_HEADER = 'x-apiary-signature';

export function signBody(body: string, token: string): string {
  return `sha256=${createHmac('sha256', token).update(body).digest('hex')}`;
}
