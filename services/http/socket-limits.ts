import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { LIMITS } from '../../contracts/common.js';
import { capConnections, type ShedSocket } from './connection-cap.js';

/**
 * What one socket may hold of a server (docs/protocol.md's limits): silent or slow clients are cut, idle keep-alive sockets
 * closed, and the number of sockets bounded below the process's file-descriptor limit, so `/health` and the
 * heartbeats of known senders keep working whatever a client opens.
 */
export interface SocketLimits {
  /** Request headers must be in within this long. */
  headersTimeoutMs: number;
  /** The whole request, body included, within this long. */
  requestTimeoutMs: number;
  /** A keep-alive socket with no request in flight is closed after this long (a stream never is: it is in flight). */
  idleTimeoutMs: number;
  /** Sockets open at once: at the cap the one idle longest is closed, or the newcomer if none is idle. */
  maxConnections: number;
}

export const DEFAULT_SOCKET_LIMITS: SocketLimits = {
  headersTimeoutMs: LIMITS.headersTimeoutMs,
  requestTimeoutMs: LIMITS.requestTimeoutMs,
  idleTimeoutMs: LIMITS.idleTimeoutMs,
  maxConnections: LIMITS.maxConnections,
};

/** Descriptors kept for everything but client sockets: the listener, files, logs, children, outgoing requests. */
const RESERVED_FDS = 128;
/** How often Node checks the header and request deadlines; at most this late. */
const CHECK_INTERVAL_MS = 1_000;

/** The soft limit on open files (Linux `/proc/self/limits`), or undefined where it cannot be read. */
export function openFilesLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const soft = /^Max open files\s+(\d+)/m.exec(text)?.[1];
  return soft === undefined ? undefined : Number(soft);
}

/** `maxConnections` lowered to fit under the descriptor limit, never below 1. */
export function connectionCap(maxConnections: number, fdLimit = openFilesLimit()): number {
  if (fdLimit === undefined) return maxConnections;
  return Math.max(1, Math.min(maxConnections, fdLimit - RESERVED_FDS));
}

/** Options for `http.createServer`: the deadlines, checked often enough to hold for short ones too. */
export function serverOptions(limits: SocketLimits): http.ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, limits.headersTimeoutMs / 4),
    keepAliveTimeout: limits.idleTimeoutMs,
  };
}

/** Applies what is not a constructor option; returns the connection cap in force. */
export function applySocketLimits(
  server: http.Server,
  limits: SocketLimits,
  onShed?: (shed: ShedSocket) => void,
): number {
  server.keepAliveTimeout = limits.idleTimeoutMs;
  const cap = connectionCap(limits.maxConnections);
  capConnections(server, cap, onShed);
  return cap;
}
