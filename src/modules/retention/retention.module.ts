import { defineModule } from '../../app-module.ts';
import { periodicPass } from '../../periodic.ts';
import { runRetentionPass } from './retention.service.ts';
import './retention.schema.ts';

const worker = periodicPass('retention pass', (app) => app.config.retention.intervalMs, runRetentionPass);

/**
 * Retention of room messages: every `retention.interval_ms` a pass deletes the messages older than each org's
 * effective retention (Org.retentionDays, else `retention.room_messages_days`). One pass at a time per instance;
 * instances sharing a database may overlap safely (retention.service.ts).
 */
export const retentionModule = defineModule({
  name: 'retention',
  start: worker.start,
  stop: worker.stop,
});
