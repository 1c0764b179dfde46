import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ErrorBody } from '../../../../contracts/heartbeat.js';
import { notFound } from '../../../../services/http/middleware/not-found.js';

describe('notFound', () => {
  it('answers an unknown route with a 404 error body naming the method and path', async () => {
    const app = new Hono();
    app.get('/known', (c) => c.text('here'));
    app.notFound(notFound);
    const response = await app.request('/v1/nope', { method: 'DELETE' });
    expect(response.status).toBe(404);
    expect(ErrorBody.parse(await response.json())).toEqual({ error: 'No route DELETE /v1/nope.' });
    expect((await app.request('/known')).status).toBe(200);
  });
});
