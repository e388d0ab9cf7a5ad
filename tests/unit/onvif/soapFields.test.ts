import { describe, expect, it } from 'vitest';
import { deviceInformationFromXml, elementText, profilesFromOnvif } from '../../../src/onvif/soapFields.js';

describe('ONVIF answer fields', () => {
  it('reads device information as text, keeping long numeric serials exact', () => {
    const xml =
      '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><tds:GetDeviceInformationResponse>' +
      '<tds:Manufacturer>A&amp;B Vision</tds:Manufacturer><tds:Model>IPC&#x2D;1</tds:Model><tds:FirmwareVersion>V5.7.1</tds:FirmwareVersion>' +
      '<tds:SerialNumber>00012345678901234567890</tds:SerialNumber><tds:HardwareId> 88 </tds:HardwareId>' +
      '</tds:GetDeviceInformationResponse></env:Body></env:Envelope>';
    expect(deviceInformationFromXml(xml)).toEqual({
      manufacturer: 'A&B Vision',
      model: 'IPC-1',
      firmwareVersion: 'V5.7.1',
      serialNumber: '00012345678901234567890',
      hardwareId: '88',
    });
    expect(elementText('<Model/>', 'Model')).toBeNull();
    expect(elementText('<a:ModelName>x</a:ModelName>', 'Model')).toBeNull();
  });

  it('reads profiles with encoder settings, tokens as text', () => {
    const profiles = profilesFromOnvif([
      {
        $: { token: 101, fixed: true },
        name: 'mainStream',
        videoEncoderConfiguration: {
          encoding: 'H264',
          resolution: { width: 1920, height: 1080 },
          rateControl: { frameRateLimit: 25, bitrateLimit: 4096 },
        },
      },
      { $: { token: 'audio_only' }, name: 'audio' },
      { name: 'no token' },
    ]);
    expect(profiles).toEqual([
      {
        token: '101',
        name: 'mainStream',
        encoding: 'H264',
        width: 1920,
        height: 1080,
        fps: 25,
        bitrateKbps: 4096,
        streamUri: null,
        snapshotUri: null,
      },
      {
        token: 'audio_only',
        name: 'audio',
        encoding: null,
        width: null,
        height: null,
        fps: null,
        bitrateKbps: null,
        streamUri: null,
        snapshotUri: null,
      },
    ]);
    expect(profilesFromOnvif(undefined)).toEqual([]);
  });
});
