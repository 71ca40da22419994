import { coordinateProblem, distanceBucket, haversineMetres } from './geo';

describe('geo', () => {
  it('measures great-circle distances', () => {
    // Wuhan (Jianghan Road) to Beijing (Tiananmen): about 1,050 km.
    const km =
      haversineMetres(
        { latitude: 30.5801, longitude: 114.2881 },
        { latitude: 39.9087, longitude: 116.3975 },
      ) / 1000;
    expect(km).toBeGreaterThan(1_040);
    expect(km).toBeLessThan(1_060);
    // 0.001° of latitude is about 111 m.
    expect(
      haversineMetres({ latitude: 30.6, longitude: 114.3 }, { latitude: 30.601, longitude: 114.3 }),
    ).toBeCloseTo(111.2, 0);
    expect(haversineMetres({ latitude: 30.6, longitude: 114.3 }, { latitude: 30.6, longitude: 114.3 })).toBe(
      0,
    );
  });

  it('rounds distances up to a bucket and has none beyond the largest', () => {
    expect(distanceBucket(0)).toBe(50);
    expect(distanceBucket(50)).toBe(50);
    expect(distanceBucket(50.1)).toBe(100);
    expect(distanceBucket(499)).toBe(500);
    expect(distanceBucket(4_999)).toBe(5_000);
    expect(distanceBucket(5_001)).toBeNull();
  });

  it('refuses coordinates out of range or not finite', () => {
    expect(coordinateProblem(30.6, 114.3)).toBeNull();
    expect(coordinateProblem(-90, 180)).toBeNull();
    expect(coordinateProblem(90.0001, 0)?.field).toBe('latitude');
    expect(coordinateProblem(0, -180.5)?.field).toBe('longitude');
    expect(coordinateProblem(Number.NaN, 0)?.field).toBe('latitude');
    expect(coordinateProblem(0, Number.POSITIVE_INFINITY)?.field).toBe('longitude');
  });
});
