/**
 * A response body as text, read only up to `maxBytes`: null past it, the rest cancelled unread (a declared
 * `content-length` over the bound is refused before a byte is read), so a peer cannot make the reader hold more.
 */
export async function boundedText(response: Response, maxBytes: number): Promise<string | null> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (response.body === null) return '';
  if (declared > maxBytes) {
    await response.body.cancel();
    return null;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let read = 0;
  let text = '';
  for (;;) {
    const next = await reader.read();
    if (next.done) return text + decoder.decode();
    read += next.value.byteLength;
    if (read > maxBytes) {
      await reader.cancel();
      return null;
    }
    text += decoder.decode(next.value, { stream: true });
  }
}
