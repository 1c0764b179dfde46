import { describe, expect, it } from 'vitest';
import { type EnginePlaceholder, optionLikePlaceholders } from '../../contracts/engine.js';

const VALUES: Record<EnginePlaceholder, string> = {
  model_path: '/models/--never-ready.gguf',
  model_id: '--never-ready',
  engine_port: '39965',
  device: 'GPU-0',
  device_index: '0',
};

describe('optionLikePlaceholders', () => {
  it('names a placeholder whose value would make an argument an option', () => {
    const command = ['vllm', 'serve', '{model_path}', '--served-model-name', '{model_id}', '--port', '{engine_port}'];
    expect(optionLikePlaceholders(command, VALUES)).toEqual(['model_id']);
  });

  it('names it once however often it is used, with the placeholders sharing its argument', () => {
    const command = ['engine', '{model_id}', '{device_index}{model_id}', '{model_id}'];
    expect(optionLikePlaceholders(command, { ...VALUES, device_index: '' })).toEqual(['model_id', 'device_index']);
  });

  it('leaves values joined to their flag, inside a word, in the program or in a harmless id alone', () => {
    expect(optionLikePlaceholders(['engine', '--served-model-name={model_id}', 'name:{model_id}'], VALUES)).toEqual([]);
    expect(optionLikePlaceholders(['{model_id}', '-m', '{model_path}'], VALUES)).toEqual([]);
    expect(optionLikePlaceholders(['engine', '{model_id}'], { ...VALUES, model_id: 'qwen-7b' })).toEqual([]);
  });
});
