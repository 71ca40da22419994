/** Great-circle distances for location check-in (实名制定位考勤). Raw coordinates are never stored. */
const EARTH_RADIUS_M = 6_371_008.8;

export interface Point {
  latitude: number;
  longitude: number;
}

const rad = (deg: number) => (deg * Math.PI) / 180;

/** Haversine distance in metres. */
export function haversineMetres(a: Point, b: Point): number {
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Upper bounds of the distance buckets kept instead of positions. */
export const DISTANCE_BUCKETS_M = [50, 100, 200, 300, 500, 1_000, 2_000, 5_000] as const;

/** The smallest bucket holding `metres`; null beyond the largest (farther than any accepted radius). */
export function distanceBucket(metres: number): number | null {
  return DISTANCE_BUCKETS_M.find((b) => metres <= b) ?? null;
}

/** Valid WGS-84 coordinates: finite, latitude within ±90, longitude within ±180. */
export function coordinateProblem(
  latitude: number,
  longitude: number,
): { field: string; message: string } | null {
  if (typeof latitude !== 'number' || !Number.isFinite(latitude) || Math.abs(latitude) > 90)
    return { field: 'latitude', message: 'latitude must be a number between -90 and 90' };
  if (typeof longitude !== 'number' || !Number.isFinite(longitude) || Math.abs(longitude) > 180)
    return { field: 'longitude', message: 'longitude must be a number between -180 and 180' };
  return null;
}
