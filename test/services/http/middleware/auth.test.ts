import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ErrorBody } from '../../../../contracts/heartbeat.js';
import { type BearerAuthOptions, bearerAuth } from '../../../../services/http/middleware/auth.js';

const TOKEN = 'hunter2-but-longer';

function app(options: BearerAuthOptions) {
  const hono = new Hono();
  hono.use('*', bearerAuth(options));
  hono.get('*', (c) => c.text(`reached ${c.req.path}`));
  return hono;
}

const guarded = app({
  token: TOKEN,
  exempt: (path) => path === '/health',
  queryToken: (path) => path === '/stream',
});

async function refused(response: Response, error: string): Promise<void> {
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toBe('Bearer');
  expect(ErrorBody.parse(await response.json())).toEqual({ error });
}

describe('bearerAuth', () => {
  it('lets every request through when the role has no token', async () => {
    const open = app({ token: undefined });
    const response = await open.request('/anything');
    expect(await response.text()).toBe('reached /anything');
  });

  it.each([`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `Bearer   ${TOKEN}  `])('takes the header %j', async (header) => {
    const response = await guarded.request('/hives', { headers: { authorization: header } });
    expect(await response.text()).toBe('reached /hives');
  });

  it('answers 401 without the token, and says it is needed', async () => {
    await refused(await guarded.request('/hives'), 'This request needs the token.');
  });

  it.each([
    ['a wrong token', `Bearer ${TOKEN}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 5)}`],
    ['another scheme', `Basic ${TOKEN}`],
    ['the bare token', TOKEN],
  ])('answers 401 to %s, and says it is wrong', async (_label, header) => {
    await refused(await guarded.request('/hives', { headers: { authorization: header } }), 'The token is wrong.');
  });

  it('needs no token on an exempt path', async () => {
    expect(await (await guarded.request('/health')).text()).toBe('reached /health');
  });

  it('takes ?token= only on the paths that allow it', async () => {
    const query = `?token=${encodeURIComponent(TOKEN)}`;
    expect(await (await guarded.request(`/stream${query}`)).text()).toBe('reached /stream');
    await refused(await guarded.request(`/hives${query}`), 'This request needs the token.');
    await refused(await guarded.request('/stream?token=wrong'), 'The token is wrong.');
  });
});
