import { z } from 'zod';
import { HttpUrl } from './common.js';

/** A queen's part in the leader election of several queens on etcd (high availability). */
export const QueenRole = z.enum(['candidate', 'leader', 'follower']);
export type QueenRole = z.infer<typeof QueenRole>;

/** The value each queen campaigns with in etcd: where senders reach it, and which process it is. */
export const LeaderValue = z.object({ queen_url: HttpUrl, queen_epoch: z.string().min(1) });
export type LeaderValue = z.infer<typeof LeaderValue>;
