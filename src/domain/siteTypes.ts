/**
 * The catalogue of site types a camera can be filed under. Every camera names one; the
 * privacy guard (privacy/siteGuard.ts) refuses those a jurisdiction forbids, and the
 * filing report lists them with their Chinese names as the police expect to read them.
 *
 * The first group are the private places the regulations forbid cameras in
 * (hubei-2013 Art. 8, qingdao-2020 Art. 9, zhuzhou-2023 Art. 8, yunnan-2016 Art. 11,
 * guangdong-2025 Art. 7); which profile forbids which lives in config/profiles.ts.
 */

export const SITE_TYPES = [
  // Private places (涉及个人隐私的场所).
  'hotel_guest_room',
  'dormitory_room',
  'public_bath',
  'toilet',
  'changing_room',
  'nursing_room',
  'fitting_room',
  'ktv_private_room',
  'financial_client_position',
  'ballot_box_area',
  'private_space',
  // Public places (公共场所和区域).
  'road',
  'intersection',
  'school_gate',
  'school_campus',
  'kindergarten',
  'hospital',
  'station',
  'metro',
  'airport',
  'port',
  'mall',
  'shop',
  'market',
  'bank_hall',
  'hotel_lobby',
  'residential_entrance',
  'residential_area',
  'parking',
  'square',
  'park',
  'scenic_area',
  'stadium',
  'government_building',
  'office',
  'factory',
  'warehouse',
  'construction_site',
  'other_public',
] as const;

export type SiteType = (typeof SITE_TYPES)[number];

export interface SiteTypeInfo {
  id: SiteType;
  /** The name as the regulations or the filing forms write it. */
  zh: string;
  en: string;
  /** A place where people expect privacy; at least one regulation forbids cameras there. */
  privateSpace: boolean;
}

type InfoRow = Omit<SiteTypeInfo, 'id'>;

const priv = (zh: string, en: string): InfoRow => ({ zh, en, privateSpace: true });
const pub = (zh: string, en: string): InfoRow => ({ zh, en, privateSpace: false });

const ROWS: Record<SiteType, InfoRow> = {
  hotel_guest_room: priv('旅馆客房', 'hotel guest room'),
  dormitory_room: priv('集体宿舍、公寓房间', 'dormitory or apartment room'),
  public_bath: priv('公共浴室', 'public bath'),
  toilet: priv('卫生间', 'toilet'),
  changing_room: priv('更衣室', 'changing room'),
  nursing_room: priv('哺乳室、母婴室', 'nursing (mother-and-baby) room'),
  fitting_room: priv('试衣间、化妆间', 'fitting or dressing room'),
  ktv_private_room: priv('娱乐场所包房', 'entertainment private room (KTV)'),
  financial_client_position: priv(
    '金融、保险、证券机构内可能泄露客户信息的部位',
    'financial counter position that may expose client information',
  ),
  ballot_box_area: priv('选举箱、举报箱、投票点附近', 'area near a ballot box, report box or polling point'),
  private_space: priv('其他涉及个人隐私的场所', 'other private space'),
  road: pub('道路', 'road'),
  intersection: pub('交通路口', 'intersection'),
  school_gate: pub('学校出入口', 'school gate'),
  school_campus: pub('校园', 'school campus'),
  kindergarten: pub('幼儿园', 'kindergarten'),
  hospital: pub('医院', 'hospital'),
  station: pub('车站、码头', 'station'),
  metro: pub('地铁', 'metro'),
  airport: pub('机场', 'airport'),
  port: pub('港口', 'port'),
  mall: pub('商贸中心', 'shopping mall'),
  shop: pub('商店', 'shop'),
  market: pub('农贸市场', 'market'),
  bank_hall: pub('金融机构营业大厅', 'bank hall'),
  hotel_lobby: pub('旅馆大厅、通道、出入口', 'hotel lobby, corridor or entrance'),
  residential_entrance: pub('住宅小区出入口', 'residential compound entrance'),
  residential_area: pub('住宅小区公共区域', 'residential compound common area'),
  parking: pub('停车场', 'parking'),
  square: pub('广场', 'square'),
  park: pub('公园', 'park'),
  scenic_area: pub('旅游景区', 'scenic area'),
  stadium: pub('体育场馆', 'stadium'),
  government_building: pub('国家机关办公场所', 'government building'),
  office: pub('办公场所', 'office'),
  factory: pub('工厂', 'factory'),
  warehouse: pub('仓库', 'warehouse'),
  construction_site: pub('建筑工地', 'construction site'),
  other_public: pub('其他公共区域', 'other public area'),
};

export const SITE_TYPE_INFO: Readonly<Record<SiteType, SiteTypeInfo>> = Object.freeze(
  Object.fromEntries(SITE_TYPES.map((id) => [id, Object.freeze({ id, ...ROWS[id] })])) as Record<SiteType, SiteTypeInfo>,
);

const SITE_TYPE_SET: ReadonlySet<string> = new Set(SITE_TYPES);

export function isSiteType(s: string): s is SiteType {
  return SITE_TYPE_SET.has(s);
}
