/**
 * MapLibre's own control texts (zoom buttons, attribution toggle, gesture help) in the app's
 * language: MapLibre ships English only and takes a `locale` table at construction. Every map
 * passes `locale: mapLocale()`.
 */
import { t, type MessageKey } from '../i18n';

const KEYS: Record<string, MessageKey> = {
  'AttributionControl.ToggleAttribution': 'map.ctl.toggleAttribution',
  'AttributionControl.MapFeedback': 'map.ctl.feedback',
  'CooperativeGesturesHandler.MobileHelpText': 'map.ctl.twoFingers',
  'CooperativeGesturesHandler.WindowsHelpText': 'map.ctl.ctrlScroll',
  'CooperativeGesturesHandler.MacHelpText': 'map.ctl.cmdScroll',
  'FullscreenControl.Enter': 'map.ctl.fullscreenEnter',
  'FullscreenControl.Exit': 'map.ctl.fullscreenExit',
  'GeolocateControl.FindMyLocation': 'map.ctl.findMe',
  'GeolocateControl.LocationNotAvailable': 'map.ctl.noLocation',
  'LogoControl.Title': 'map.ctl.logo',
  'Map.Title': 'map.viewMap',
  'Marker.Title': 'map.ctl.marker',
  'NavigationControl.ResetBearing': 'map.ctl.resetBearing',
  'NavigationControl.ZoomIn': 'map.ctl.zoomIn',
  'NavigationControl.ZoomOut': 'map.ctl.zoomOut',
  'Popup.Close': 'map.ctl.closePopup',
};

export function mapLocale(): Record<string, string> {
  return Object.fromEntries(Object.entries(KEYS).map(([id, key]) => [id, t(key)]));
}
