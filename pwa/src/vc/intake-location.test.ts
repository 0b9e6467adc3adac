import { describe, expect, it } from 'vitest';
import { intakeLocation, locationBody, pickedFields } from './intake-location';

describe('where a need being taken is placed', () => {
  it('uses the map pick (or typed point) when there is one, and sends no town', () => {
    const loc = intakeLocation({ ...pickedFields(140.2512345, 36.3751), town: 'テスト町' });
    expect(loc).toEqual({ kind: 'pin', lon: 140.251235, lat: 36.3751 });
    expect(locationBody(loc)).toEqual({ lon: 140.251235, lat: 36.3751, town: null });
  });

  it('without a pin, the town gives an approximate location for the server to geocode', () => {
    const loc = intakeLocation({ lon: '', lat: '', town: ' 笠間 ' });
    expect(loc).toEqual({ kind: 'approximate', town: '笠間' });
    expect(locationBody(loc)).toEqual({ lon: null, lat: null, town: '笠間' });
  });

  it('half a point or a word is no pin; a point off the globe goes to the server, which refuses it on its field', () => {
    expect(intakeLocation({ lon: '140.25', lat: '', town: '' })).toEqual({ kind: 'missing' });
    expect(intakeLocation({ lon: '240', lat: '36.3', town: '笠間' })).toEqual({ kind: 'pin', lon: 240, lat: 36.3 });
    expect(intakeLocation({ lon: 'x', lat: '36.3', town: '' })).toEqual({ kind: 'missing' });
    expect(locationBody({ kind: 'missing' })).toEqual({ lon: null, lat: null, town: null });
  });
});
