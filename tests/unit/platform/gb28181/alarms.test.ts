import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { IncidentBoard } from '../../../../src/health/incidents.js';
import { alarmOf, feedIncidents, manscdpTime, type AlarmSpec } from '../../../../src/platform/gb28181/alarms.js';
import { decodeBody } from '../../../../src/platform/gb28181/manscdp/charset.js';
import { buildAlarmNotify } from '../../../../src/platform/gb28181/manscdp/response.js';

const CAM = '44030500001328000001';

describe('GB/T 28181 alarms from incidents', () => {
  it('maps camera_down and shared_tier_dark to a device video-loss alarm, image incidents to a video anomaly, others to none', () => {
    expect(alarmOf({ kind: 'camera_down', severity: 'critical', message: 'down' })).toEqual({
      priority: 1,
      method: 2,
      type: 1,
      description: 'down',
    });
    expect(alarmOf({ kind: 'shared_tier_dark', severity: 'critical', message: 'dark' })).toMatchObject({ method: 2, type: 1 });
    expect(alarmOf({ kind: 'image_frozen', severity: 'warning', message: 'frozen' })).toEqual({
      priority: 3,
      method: 5,
      type: 11,
      description: 'frozen',
    });
    expect(alarmOf({ kind: 'disk_full', severity: 'critical', message: 'full' })).toBeUndefined();
  });

  it('writes AlarmTime in China Standard Time without a zone', () => {
    expect(manscdpTime(new Date('2026-12-05T23:00:01.500Z'))).toBe('2026-12-06T07:00:01');
    expect(manscdpTime(new Date('2026-12-05T23:00:01Z'), 0)).toBe('2026-12-05T23:00:01');
  });

  it('writes the alarm notify with the mandatory fields (A.2.5), Chinese description round trip', () => {
    const body = buildAlarmNotify({
      sn: 7,
      deviceId: CAM,
      priority: 1,
      method: 2,
      time: '2026-12-06T07:00:01',
      description: '摄像机离线 <南门>',
      type: 1,
      longitude: 113.9,
      latitude: 22.5,
    });
    expect(decodeBody(body).text).toBe(
      '<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Alarm</CmdType>\r\n<SN>7</SN>\r\n' +
        `<DeviceID>${CAM}</DeviceID>\r\n<AlarmPriority>1</AlarmPriority>\r\n<AlarmMethod>2</AlarmMethod>\r\n` +
        '<AlarmTime>2026-12-06T07:00:01</AlarmTime>\r\n<AlarmDescription>摄像机离线 &lt;南门&gt;</AlarmDescription>\r\n' +
        '<Longitude>113.9</Longitude>\r\n<Latitude>22.5</Latitude>\r\n<Info>\r\n<AlarmType>1</AlarmType>\r\n</Info>\r\n</Notify>\r\n',
    );
  });

  it('feeds the links: camera_down changes the catalog both ways and alarms once when firing; gateway incidents are not theirs', () => {
    const board = new IncidentBoard(pino({ level: 'silent' }));
    const seen: string[] = [];
    const sink = {
      catalogChanged: () => seen.push('catalog'),
      alarm: (id: string, spec: AlarmSpec) => seen.push(`alarm ${id} ${spec.method}/${spec.type}`),
    };
    const off = feedIncidents(board, [sink]);
    board.fire({ cameraId: CAM, kind: 'camera_down', severity: 'critical', message: 'down' });
    board.fire({ cameraId: CAM, kind: 'image_black', severity: 'warning', message: 'black' });
    board.fire({ cameraId: null, kind: 'disk_full', severity: 'critical', message: 'full' });
    board.resolve(CAM, 'camera_down');
    off();
    board.fire({ cameraId: CAM, kind: 'camera_down', severity: 'critical', message: 'down' });
    expect(seen).toEqual(['catalog', `alarm ${CAM} 2/1`, `alarm ${CAM} 5/11`, 'catalog']);
  });
});
