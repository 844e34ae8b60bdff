import type { Alert } from '../alerts/model.js';

/**
 * A one-way alert destination (console, JSON webhook). It only sends: routing, grouping, retries and
 * silences are the dispatcher's job. Failures are thrown as DeliveryError (src/adapters/chat.ts) saying
 * whether a retry can help.
 */
export interface AlertSender {
  readonly name: string;
  send(alerts: Alert[]): Promise<void>;
}
