// Outgoing mail (password reset, email verification) through nodemailer and `mail.smtp_url`. Without one, the
// message is logged at warn level instead (a laptop with no mail server still gets its links).
import nodemailer, { type Transporter } from 'nodemailer';
import type { AppServices, Context } from '../../context.ts';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** The link the mail carries, logged when no mail server is configured. */
  link: string;
}

const transports = new WeakMap<AppServices, Transporter>();
const pending = new WeakMap<AppServices, Set<Promise<void>>>();

function transportOf(app: AppServices, smtpUrl: string): Transporter {
  let t = transports.get(app);
  if (!t) transports.set(app, (t = nodemailer.createTransport(smtpUrl)));
  return t;
}

/** Whether mail goes out (mail.smtp_url is set). */
export const mailConfigured = (app: AppServices) => !!app.config.mail.smtpUrl;

/**
 * Sends in the background: the caller answers at once, the same way whether a mail went out or not (a
 * password reset for an unknown address must not answer later than one for a known one). A failure is
 * logged, never shown to the caller. `stopMail` waits for sends under way.
 */
export function sendMail(app: AppServices, mail: Mail): void {
  const { smtpUrl, from } = app.config.mail;
  if (!smtpUrl) {
    app.log.warn({ to: mail.to, subject: mail.subject, link: mail.link }, 'mail.smtp_url is not set: this mail was not sent');
    return;
  }
  const set = pending.get(app) ?? new Set();
  pending.set(app, set);
  const p = transportOf(app, smtpUrl)
    .sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text })
    .then(
      () => app.log.info({ to: mail.to, subject: mail.subject }, 'mail sent'),
      (err: unknown) => app.log.warn({ err, to: mail.to, subject: mail.subject }, 'sending mail failed'),
    )
    .finally(() => set.delete(p));
  set.add(p);
}

/** Waits for mails under way, then closes the SMTP connection pool. */
export async function stopMail(app: AppServices): Promise<void> {
  await Promise.all([...(pending.get(app) ?? [])]);
  transports.get(app)?.close();
  transports.delete(app);
}

/** `<mail.public_url, else the request's origin>/app/#/<route>?token=<token>`: where the web client takes the token. */
export function appLink(ctx: Context, route: 'reset' | 'verify', token: string): string {
  const { host, port } = ctx.app.config.server;
  const origin = ctx.app.config.mail.publicUrl
    ? new URL(ctx.app.config.mail.publicUrl).origin
    : (ctx.origin ?? `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`);
  return `${origin}/app/#/${route}?token=${encodeURIComponent(token)}`;
}

/** A link's lifetime in words, for the mail's text. */
export const duration = (sec: number) => (sec < 7200 ? `${Math.max(1, Math.round(sec / 60))} minutes` : `${Math.round(sec / 3600)} hours`);
