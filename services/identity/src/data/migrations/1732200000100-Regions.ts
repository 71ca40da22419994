import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The region tree named by the seed notices: Henan → Pingdingshan and its counties/districts
 * (incl. the two development zones), Hubei → its 17 cities/areas, Wuhan → its districts/zones.
 * Codes are GB/T 2260; development zones use the 7x codes their cities use for functional areas.
 */
const REGIONS: [code: string, name: string][] = [
  ['410000', '河南省'],
  ['410400', '平顶山市'],
  ['410402', '新华区'],
  ['410403', '卫东区'],
  ['410404', '石龙区'],
  ['410411', '湛河区'],
  ['410421', '宝丰县'],
  ['410422', '叶县'],
  ['410423', '鲁山县'],
  ['410425', '郏县'],
  ['410471', '高新区'],
  ['410472', '城乡一体化示范区'],
  ['410481', '舞钢市'],
  ['420000', '湖北省'],
  ['420100', '武汉市'],
  ['420102', '江岸区'],
  ['420103', '江汉区'],
  ['420104', '硚口区'],
  ['420105', '汉阳区'],
  ['420106', '武昌区'],
  ['420107', '青山区'],
  ['420111', '洪山区'],
  ['420112', '东西湖区'],
  ['420113', '经开(汉南)区'],
  ['420114', '蔡甸区'],
  ['420115', '江夏区'],
  ['420116', '黄陂区'],
  ['420117', '新洲区'],
  ['420171', '东湖新技术开发区'],
  ['420200', '黄石市'],
  ['420300', '十堰市'],
  ['420500', '宜昌市'],
  ['420600', '襄阳市'],
  ['420700', '鄂州市'],
  ['420800', '荆门市'],
  ['420900', '孝感市'],
  ['421000', '荆州市'],
  ['421100', '黄冈市'],
  ['421200', '咸宁市'],
  ['421300', '随州市'],
  ['422800', '恩施土家族苗族自治州'],
  ['429000', '省直辖县级行政区划'],
  ['429004', '仙桃市'],
  ['429005', '潜江市'],
  ['429006', '天门市'],
  ['429021', '神农架林区'],
];

function level(code: string): string {
  if (code.endsWith('0000')) return 'PROVINCE';
  return code.endsWith('00') ? 'CITY' : 'COUNTY';
}

function parent(code: string): string | null {
  if (code.endsWith('0000')) return null;
  return code.endsWith('00') ? `${code.slice(0, 2)}0000` : `${code.slice(0, 4)}00`;
}

export class Regions1732200000100 implements MigrationInterface {
  name = 'Regions1732200000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE regions (
        code char(6) PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
        name text NOT NULL,
        level text NOT NULL CHECK (level IN ('PROVINCE', 'CITY', 'COUNTY')),
        parent_code char(6) REFERENCES regions (code)
      )`);
    await q.query('CREATE INDEX regions_parent ON regions (parent_code)');
    for (const [code, name] of REGIONS) {
      await q.query('INSERT INTO regions (code, name, level, parent_code) VALUES ($1, $2, $3, $4)', [
        code,
        name,
        level(code),
        parent(code),
      ]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE regions');
  }
}
