import { Hono } from 'hono';
import { describe, expect, it, onTestFinished } from 'vitest';
import { listen } from '../../../services/http/listen.js';
import { sourceOf } from '../../../services/http/source.js';

/** An app that answers each request with the source it reads. */
function sourceApp(): Hono {
  const app = new Hono();
  app.get('/', (c) => c.text(sourceOf(c)));
  return app;
}

describe('sourceOf', () => {
  it('names the peer address of a request served on a real socket', async () => {
    const served = await listen(sourceApp(), '127.0.0.1', 0);
    onTestFinished(() => served.close());
    const response = await fetch(`http://127.0.0.1:${served.port}/`);
    expect(await response.text()).toBe('127.0.0.1');
  });

  it('is unknown for a request not served by Node', async () => {
    const response = await sourceApp().request('/');
    expect(await response.text()).toBe('unknown');
  });
});
