import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LIMITS } from '../../contracts/common.js';
import { issueLine, issuesOf, jsonOf, parseJson } from '../../services/parse-json.js';

const Item = z.object({ items: z.array(z.object({ name: z.string() })) });

describe('parseJson', () => {
  it('gives the value the schema parses', () => {
    expect(parseJson(Item, '{"items":[{"name":"a"}]}')).toEqual({ ok: true, value: { items: [{ name: 'a' }] } });
  });

  it("says a text is not JSON, with the parser's message at the root", () => {
    const parsed = parseJson(Item, '{"items":');
    expect(parsed).toMatchObject({ ok: false, error: { notJson: true, issues: [{ path: '' }] } });
    expect(parsed.ok ? '' : parsed.error.issues[0]?.message).toMatch(/JSON/);
  });

  it('puts each schema issue at its dotted path, array indexes included', () => {
    const parsed = parseJson(Item, '{"items":[{"name":1}]}');
    expect(parsed).toMatchObject({ ok: false, error: { notJson: false } });
    expect(parsed.ok ? [] : parsed.error.issues.map((issue) => issue.path)).toEqual(['items.0.name']);
  });
});

describe('jsonOf', () => {
  it('parses any JSON value, and gives undefined for a text that is not JSON', () => {
    expect(jsonOf('{"a":[1,null]}')).toEqual({ a: [1, null] });
    expect(jsonOf('null')).toBeNull();
    expect(jsonOf('{"a":')).toBeUndefined();
    expect(jsonOf('')).toBeUndefined();
  });
});

describe('issuesOf and issueLine', () => {
  it('writes the issues on one line, the whole value as (root)', () => {
    const refused = z.array(z.number()).min(1).safeParse('x');
    if (refused.success) throw new Error('a string is not an array');
    expect(issuesOf(refused.error).map((issue) => issue.path)).toEqual(['']);
    expect(issueLine([...issuesOf(refused.error), { path: 'a.0', message: 'bad' }])).toMatch(
      /^\(root\): .+; a\.0: bad$/,
    );
  });

  it('lists the first issues only, and counts the rest in one last issue', () => {
    const bad = LIMITS.listedIssues + 7;
    const parsed = parseJson(Item, JSON.stringify({ items: Array.from({ length: bad }, () => ({ name: 1 })) }));
    const issues = parsed.ok ? [] : parsed.error.issues;
    expect(issues).toHaveLength(LIMITS.listedIssues + 1);
    expect(issues[LIMITS.listedIssues - 1]?.path).toBe(`items.${LIMITS.listedIssues - 1}.name`);
    expect(issues.at(-1)).toEqual({ path: '', message: 'and 7 more issues, not listed' });
  });

  it('lists every issue up to the bound, with no count', () => {
    const parsed = parseJson(Item, JSON.stringify({ items: Array.from({ length: LIMITS.listedIssues }, () => ({})) }));
    const issues = parsed.ok ? [] : parsed.error.issues;
    expect(issues).toHaveLength(LIMITS.listedIssues);
    expect(issues.at(-1)?.path).toBe(`items.${LIMITS.listedIssues - 1}.name`);
  });
});
