import type { MigrationInterface, QueryRunner } from 'typeorm';

const PINGDINGSHAN = '平人社职业〔2021〕11号 附件1';
const HUBEI = '鄂人社办发〔2021〕20号';
const HUBEI_PLAN = '鄂人社办发〔2021〕20号 附件2';
const WUHAN = '武人社函〔2021〕184号 附件2';

/**
 * The 2021 yearly targets (发券数 / 用券数) of the seed notices, as absolute numbers. The use target is
 * not always 10 % of the issue target: most Wuhan districts have 6,500 / 600 and the two development
 * zones (经开(汉南)区, 东湖新技术开发区) 11,000 / 1,400. A parent's target is its own figure, not the sum of
 * its children's (Wuhan's districts add up to 101,500 / 10,200 against the city's 100,000 / 10,000;
 * Hubei's plan adds up to 405,000 / 40,500 against the notice's 400,000 / 40,000). Henan set no
 * province-wide figure in these documents, and 省直辖县级行政区划 (429000) has none of its own.
 */
const TARGETS: [region: string, issued: number, used: number, source: string][] = [
  ['410400', 43_000, 4_300, `${PINGDINGSHAN} 合计`],
  ['410481', 4_000, 400, PINGDINGSHAN], // 舞钢市
  ['410421', 4_000, 400, PINGDINGSHAN], // 宝丰县
  ['410425', 4_000, 400, PINGDINGSHAN], // 郏县
  ['410423', 5_000, 500, PINGDINGSHAN], // 鲁山县
  ['410422', 5_000, 500, PINGDINGSHAN], // 叶县
  ['410402', 6_000, 600, PINGDINGSHAN], // 新华区
  ['410403', 6_000, 600, PINGDINGSHAN], // 卫东区
  ['410411', 5_000, 500, PINGDINGSHAN], // 湛河区
  ['410404', 2_000, 200, PINGDINGSHAN], // 石龙区
  ['410472', 1_000, 100, PINGDINGSHAN], // 城乡一体化示范区
  ['410471', 1_000, 100, PINGDINGSHAN], // 高新区
  ['420000', 400_000, 40_000, `${HUBEI} 总体目标`],
  ['420100', 100_000, 10_000, HUBEI_PLAN], // 武汉
  ['420500', 50_000, 5_000, HUBEI_PLAN], // 宜昌
  ['420600', 50_000, 5_000, HUBEI_PLAN], // 襄阳
  ['420300', 30_000, 3_000, HUBEI_PLAN], // 十堰
  ['420200', 30_000, 3_000, HUBEI_PLAN], // 黄石
  ['421000', 30_000, 3_000, HUBEI_PLAN], // 荆州
  ['420800', 20_000, 2_000, HUBEI_PLAN], // 荆门
  ['421100', 20_000, 2_000, HUBEI_PLAN], // 黄冈
  ['420900', 20_000, 2_000, HUBEI_PLAN], // 孝感
  ['420700', 5_000, 500, HUBEI_PLAN], // 鄂州
  ['421200', 20_000, 2_000, HUBEI_PLAN], // 咸宁
  ['421300', 10_000, 1_000, HUBEI_PLAN], // 随州
  ['422800', 10_000, 1_000, HUBEI_PLAN], // 恩施
  ['429004', 3_000, 300, HUBEI_PLAN], // 仙桃
  ['429006', 3_000, 300, HUBEI_PLAN], // 天门
  ['429005', 3_000, 300, HUBEI_PLAN], // 潜江
  ['429021', 1_000, 100, HUBEI_PLAN], // 神农架林区
  ['420102', 6_500, 600, WUHAN], // 江岸区
  ['420103', 6_500, 600, WUHAN], // 江汉区
  ['420104', 8_000, 800, WUHAN], // 硚口区
  ['420105', 6_500, 600, WUHAN], // 汉阳区
  ['420106', 6_500, 600, WUHAN], // 武昌区
  ['420107', 6_500, 600, WUHAN], // 青山区
  ['420111', 6_500, 600, WUHAN], // 洪山区
  ['420113', 11_000, 1_400, WUHAN], // 经开(汉南)区
  ['420114', 6_500, 600, WUHAN], // 蔡甸区
  ['420115', 6_500, 600, WUHAN], // 江夏区
  ['420112', 6_500, 600, WUHAN], // 东西湖区
  ['420116', 6_500, 600, WUHAN], // 黄陂区
  ['420117', 6_500, 600, WUHAN], // 新洲区
  ['420171', 11_000, 1_400, WUHAN], // 东湖新技术开发区
];

export class Quotas20211732200000300 implements MigrationInterface {
  name = 'Quotas20211732200000300';

  async up(q: QueryRunner): Promise<void> {
    for (const [region, issued, used, source] of TARGETS) {
      await q.query(
        `INSERT INTO quota_targets (year, region_code, issued_target, used_target, source, updated_by)
         VALUES (2021, $1, $2, $3, $4, 'seed') ON CONFLICT DO NOTHING`,
        [region, issued, used, source],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM quota_targets WHERE year = 2021 AND updated_by = 'seed'`);
  }
}

export const SEED_TARGETS_2021 = TARGETS;
