import { Etcd3 } from 'etcd3';
import type { WriteFence } from '../../services/store/etcd-writer.js';

/**
 * A campaign key of a leader, put in etcd as an election would, for a state store's fenced writes outside a queen:
 * `revoke` deletes it (a leader deposed), and `lost` counts the writes that found it gone.
 */
export interface TestFence {
  readonly fence: WriteFence;
  /** Times the store said the key was gone. */
  lost(): number;
  /** Deletes the key, as an expired lease would. */
  revoke(): Promise<void>;
  close(): void;
}

export async function leaderFence(endpoints: readonly string[], prefix: string, name = 'test'): Promise<TestFence> {
  const client = new Etcd3({ hosts: [...endpoints] });
  const root = client.namespace(`${prefix.replace(/\/+$/, '')}/`);
  const key = `election/queen/${name}`;
  await root.put(key).value('leader');
  const [kv] = (await root.get(key).exec()).kvs;
  if (!kv) throw new Error(`the campaign key ${key} was not written`);
  const held = { key, createRevision: kv.create_revision };
  let lost = 0;
  return {
    fence: {
      current: () => held,
      lost: () => {
        lost += 1;
      },
    },
    lost: () => lost,
    revoke: async () => {
      await root.delete().key(key);
    },
    close: () => client.close(),
  };
}
