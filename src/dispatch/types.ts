/** The one-way alert destinations (console, webhook) the dispatcher delivers to; owned by src/notifiers. */
export type { AlertSender } from '../notifiers/sender.js';
