import type { HeartbeatAck } from '../contracts/heartbeat.js';
import type { Result } from './result.js';

/** Why one heartbeat did not reach the queen, small enough to keep in a machine's context and a log line. */
export type SendFailure =
  | { kind: 'http'; status: number; message: string }
  | { kind: 'timeout'; message: string }
  | { kind: 'refused'; message: string }
  | { kind: 'aborted'; message: string }
  | { kind: 'network'; code: string; message: string }
  | { kind: 'bad-response'; message: string }
  /** A queen that is not the leader sent the heartbeat on to the one that is. */
  | { kind: 'redirect'; leaderUrl: string; message: string };

/** What the host's send actor resolves to: it never rejects for a failed send. */
export type SendOutcome = Result<HeartbeatAck, SendFailure>;
