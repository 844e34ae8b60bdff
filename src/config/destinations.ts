/**
 * Every kind of destination routes can name, the setting that turns it on, and whether a route may name one of
 * its channels (`slack:C0123`). The settings schema is the one place besides src/adapters/<platform> that knows
 * the platforms; a new chat platform adds its line here.
 */
export const DESTINATION_SETTINGS: Readonly<Record<string, { enabledBy: string; channels: boolean }>> = {
  console: { enabledBy: 'HEADWATCH_CONSOLE=true', channels: false },
  webhook: { enabledBy: 'HEADWATCH_WEBHOOK_URL', channels: false },
  slack: { enabledBy: 'SLACK_BOT_TOKEN', channels: true },
  discord: { enabledBy: 'DISCORD_TOKEN', channels: true },
};
