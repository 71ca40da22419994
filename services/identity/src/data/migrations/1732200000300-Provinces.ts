import { PROVINCE_CODES } from '@vtv/kit';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every province-level division of GB/T 2260, so a labourer registered anywhere in the country has a
 * region; the seed notices' provinces (Henan, Hubei) and their subtrees come from Regions1732200000100.
 */
export class Provinces1732200000300 implements MigrationInterface {
  name = 'Provinces1732200000300';

  async up(q: QueryRunner): Promise<void> {
    for (const [prefix, name] of Object.entries(PROVINCE_CODES)) {
      await q.query(
        `INSERT INTO regions (code, name, level, parent_code) VALUES ($1, $2, 'PROVINCE', NULL)
         ON CONFLICT (code) DO NOTHING`,
        [`${prefix}0000`, name],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DELETE FROM regions WHERE level = 'PROVINCE' AND code NOT IN ('410000', '420000')
       AND NOT EXISTS (SELECT 1 FROM regions c WHERE c.parent_code = regions.code)`,
    );
  }
}
