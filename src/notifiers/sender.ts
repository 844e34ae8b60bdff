import type { Alert } from '../alerts/model.js';

/**
 * A one-way alert destination (console, JSON webhook). It only sends: routing, grouping, retries and
 * silences are the dispatcher's job. Failures are thrown as DeliveryError (src/adapters/chat.ts) saying
 * whether a retry can help.
 */
export interface AlertSender {
  readonly name: string;
  /** Also wants content updates of firing alerts (the console: "updated" lines), not only state changes and repeats. */
  readonly wantsUpdates?: boolean;
  send(alerts: NotifiedAlert[]): Promise<void>;
}

/** Which change the dispatcher is announcing; absent on rows queued by releases that did not record it. */
export type Notification = 'firing' | 'updated' | 'resolved' | 'repeat';

export type NotifiedAlert = Alert & { notification?: Notification };
