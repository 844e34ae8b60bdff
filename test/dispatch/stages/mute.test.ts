import { afterEach, describe, expect, it } from 'vitest';
import { inhibitStage, silenceStage } from '../../../src/dispatch/stages/mute.js';
import { alert, Rig, SLACK } from './rig.js';

let rig: Rig;
afterEach(() => rig?.close());

describe('mute stages', () => {
  it('silence: drops firing alerts an active silence matches, counts them, lets resolutions through', () => {
    rig = new Rig();
    rig.parts.silences.create({ matcher: 'subject', value: 'node-7', createdBy: 'slack:U1', durationMs: 60_000 });
    const batch = [
      { change: 'firing' as const, alert: alert('node-offline', 'node-7') },
      { change: 'firing' as const, alert: alert('node-offline', 'node-8') },
      { change: 'resolved' as const, alert: alert('node-flapping', 'node-7', { status: 'resolved' }) },
    ];
    expect(silenceStage.run(rig.flush(SLACK), batch).map((n) => n.alert.fingerprint)).toEqual(['node-offline:node-8', 'node-flapping:node-7']);
    expect(rig.suppressed).toEqual({ silenced: 1 });
    rig.now += 61_000; // the silence ran out
    expect(silenceStage.run(rig.flush(SLACK), batch)).toHaveLength(3);
  });

  it('inhibit: holds node alerts back only while Headscale is unreachable', () => {
    rig = new Rig();
    const batch = [
      { change: 'firing' as const, alert: alert('node-offline', 'node-1') },
      { change: 'firing' as const, alert: alert('cpu-sustained', 'headscale') },
    ];
    expect(inhibitStage.run(rig.flush(SLACK), batch)).toHaveLength(2);
    rig.parts.alerts.save(alert('headscale-unreachable', 'headscale', { severity: 'critical' }));
    expect(inhibitStage.run(rig.flush(SLACK), batch).map((n) => n.alert.kind)).toEqual(['cpu-sustained']);
    expect(rig.suppressed).toEqual({ inhibited: 1 });
  });
});
