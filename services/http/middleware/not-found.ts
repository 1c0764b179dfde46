import type { NotFoundHandler } from 'hono';
import { errorBody } from '../error-body.js';

/** Every app's answer to an unknown route: a 404 error body naming the method and path. */
export const notFound: NotFoundHandler = (c) => c.json(errorBody(`No route ${c.req.method} ${c.req.path}.`), 404);
