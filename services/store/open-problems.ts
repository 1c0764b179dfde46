import { z } from 'zod';
import { WebhookAlert } from '../../contracts/alert.js';
import { parseJson } from '../parse-json.js';

/** The open alert problems as a store keeps them: all of them, in one JSON value. */

export function openProblemsText(open: readonly WebhookAlert[]): string {
  return JSON.stringify(open);
}

/** The open problems as kept; none when absent or unreadable: a lost alert must not keep a queen from leading. */
export function parseOpenProblems(text: string | null | undefined): WebhookAlert[] {
  const parsed = text === null || text === undefined ? null : parseJson(z.array(WebhookAlert), text);
  return parsed?.ok ? parsed.value : [];
}
