import { describe, expect, it } from 'vitest';
import { isModelFile, modelOf } from '../../../services/capabilities/models.js';

describe('models', () => {
  it('takes the model extensions, in any case, and nothing else', () => {
    for (const name of ['a.gguf', 'b.safetensors', 'c.bin', 'd.pt', 'e.onnx', 'F.GGUF']) {
      expect(isModelFile(name)).toBe(true);
    }
    for (const name of ['README.md', 'a.gguf.part', 'config.json', 'gguf', '.bin.txt']) {
      expect(isModelFile(name)).toBe(false);
    }
  });

  it('names a model by its path without extension, sized in GiB', () => {
    const file = { path: '/m/llama/7b/q4.gguf', relative: 'llama/7b/q4.gguf', size: 3 * 1024 ** 3, signature: 's' };
    expect(modelOf(file)).toEqual({ model_id: 'llama/7b/q4', size_gb: 3 });
    expect(modelOf({ ...file, relative: 'tiny.bin', size: 512 * 1024 ** 2 })).toEqual({
      model_id: 'tiny',
      size_gb: 0.5,
    });
  });

  it('refuses a model id longer than the protocol allows', () => {
    const relative = `${'x'.repeat(1025)}.gguf`;
    expect(modelOf({ path: `/m/${relative}`, relative, size: 1, signature: 's' })).toEqual({
      path: `/m/${relative}`,
      problem: 'model id longer than 1024',
    });
  });
});
