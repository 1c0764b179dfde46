/** What the page says about its stream: before the first snapshot, live, or waiting to reconnect. */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting';
