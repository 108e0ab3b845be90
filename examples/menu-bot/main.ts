/**
 * Runs the menu bot: `npx tsx examples/menu-bot/main.ts` with AUTOPILOT_URL,
 * AUTOPILOT_BOT_KEY and MENU_BOT_SECRET set (see README.md beside this file).
 */
import { createMenuBot } from './menu-bot';

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`set ${name} (see examples/menu-bot/README.md)\n`);
    process.exit(1);
  }
  return value;
};

const port = Number(process.env.MENU_BOT_PORT ?? 4000);
const bot = createMenuBot({
  autopilotUrl: process.env.AUTOPILOT_URL ?? 'http://localhost:3000',
  botKey: required('AUTOPILOT_BOT_KEY'),
  secret: required('MENU_BOT_SECRET'),
  log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
});
bot.server.listen(port, () => process.stdout.write(`menu bot listening on http://localhost:${port}/events\n`));
