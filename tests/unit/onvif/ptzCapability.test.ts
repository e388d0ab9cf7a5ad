import { describe, expect, it } from 'vitest';
import { presetsFromXml, ptzCapability, ptzNodeFromXml, ptzProfileTokens } from '../../../src/onvif/ptzCapability.js';

// Shapes as ONVIF devices send them (ptz.wsdl, media.wsdl), with the prefixes varying between vendors.
const PROFILES = `<env:Body><trt:GetProfilesResponse>
<trt:Profiles fixed="true" token="Profile_1"><tt:Name>main</tt:Name><tt:VideoEncoderConfiguration token="V1"><tt:Encoding>H264</tt:Encoding></tt:VideoEncoderConfiguration>
<tt:PTZConfiguration token="PTZ_1"><tt:Name>PTZ</tt:Name><tt:NodeToken>Node_1</tt:NodeToken></tt:PTZConfiguration></trt:Profiles>
<trt:Profiles token="Profile_2" fixed="true"><tt:Name>sub</tt:Name><tt:VideoEncoderConfiguration token="V2"><tt:Encoding>H264</tt:Encoding></tt:VideoEncoderConfiguration></trt:Profiles>
<trt:Profiles token="Profile_3"><tt:Name>third</tt:Name><PTZConfiguration token="PTZ_1"><NodeToken>Node_1</NodeToken></PTZConfiguration></trt:Profiles>
</trt:GetProfilesResponse></env:Body>`;

const node = (spaces: string, presets: number, home: boolean): string =>
  `<tptz:GetNodesResponse><tptz:PTZNode token="Node_1"><tt:Name>n</tt:Name><tt:SupportedPTZSpaces>${spaces}</tt:SupportedPTZSpaces>` +
  `<tt:MaximumNumberOfPresets>${presets}</tt:MaximumNumberOfPresets><tt:HomeSupported>${home}</tt:HomeSupported></tptz:PTZNode></tptz:GetNodesResponse>`;
const PAN_TILT = '<tt:ContinuousPanTiltVelocitySpace><tt:URI>x</tt:URI></tt:ContinuousPanTiltVelocitySpace>';
const ZOOM = '<tt:ContinuousZoomVelocitySpace><tt:URI>z</tt:URI></tt:ContinuousZoomVelocitySpace>';
const ABSOLUTE_ONLY = '<tt:AbsolutePanTiltPositionSpace><tt:URI>a</tt:URI></tt:AbsolutePanTiltPositionSpace>';

describe('ONVIF PTZ capability', () => {
  it('lists the profiles that carry a PTZConfiguration, whatever the prefix', () => {
    expect(ptzProfileTokens(PROFILES)).toEqual(['Profile_1', 'Profile_3']);
    expect(ptzProfileTokens('<trt:GetProfilesResponse></trt:GetProfilesResponse>')).toEqual([]);
  });

  it('reads continuous pan/tilt and zoom, presets and home support from the node', () => {
    expect(ptzNodeFromXml(node(PAN_TILT + ZOOM, 255, true))).toEqual({ panTilt: true, zoom: true, maxPresets: 255, home: true });
    expect(ptzNodeFromXml(node(ZOOM, 0, false))).toEqual({ panTilt: false, zoom: true, maxPresets: 0, home: false });
    // Only continuous spaces count: the gateway moves with ContinuousMove.
    expect(ptzNodeFromXml(node(ABSOLUTE_ONLY, 8, false))).toEqual({ panTilt: false, zoom: false, maxPresets: 8, home: false });
    expect(ptzNodeFromXml('<tptz:GetNodesResponse></tptz:GetNodesResponse>')).toBeNull();
  });

  it('makes a dome of a pan/tilt node, a zoom camera of a zoom-only node, and prefers the recorded profile', () => {
    const dome = { profileTokens: ['Profile_1', 'Profile_3'], node: { panTilt: true, zoom: true, maxPresets: 255, home: true } };
    expect(ptzCapability(dome, 'Profile_3')).toEqual({ kind: 'dome', profileToken: 'Profile_3', maxPresets: 255, home: true });
    expect(ptzCapability(dome, 'Profile_2')).toEqual({ kind: 'dome', profileToken: 'Profile_1', maxPresets: 255, home: true });
    const zoom = { profileTokens: ['Profile_1'], node: { panTilt: false, zoom: true, maxPresets: 0, home: false } };
    expect(ptzCapability(zoom, 'Profile_1')).toEqual({ kind: 'zoom', profileToken: 'Profile_1', maxPresets: 0, home: false });
  });

  it('says none when the service is there but no profile or node can move, and null without a PTZ service', () => {
    const node1 = { panTilt: true, zoom: true, maxPresets: 4, home: false };
    expect(ptzCapability({ profileTokens: [], node: node1 }, 'Profile_1')).toEqual({
      kind: 'none',
      profileToken: null,
      maxPresets: 0,
      home: false,
    });
    expect(ptzCapability({ profileTokens: ['Profile_1'], node: null }, 'Profile_1')).toEqual({
      kind: 'none',
      profileToken: null,
      maxPresets: 0,
      home: false,
    });
    expect(ptzCapability(null, 'Profile_1')).toBeNull();
  });

  it('reads presets with their tokens and names (names may look like numbers)', () => {
    const xml =
      '<tptz:GetPresetsResponse><tptz:Preset token="Preset_1"><tt:Name>1</tt:Name></tptz:Preset>' +
      '<tptz:Preset token="7"><tt:Name>gate &amp; yard</tt:Name><tt:PTZPosition/></tptz:Preset><tptz:Preset token="x"></tptz:Preset></tptz:GetPresetsResponse>';
    expect(presetsFromXml(xml)).toEqual([
      { token: 'Preset_1', name: '1' },
      { token: '7', name: 'gate & yard' },
      { token: 'x', name: null },
    ]);
  });
});
