/** Report languages: Chinese (default, what the filing police read), English, or both. */
export const REPORT_LANGS = ['zh', 'en', 'bilingual'] as const;
export type ReportLang = (typeof REPORT_LANGS)[number];

export interface Label {
  zh: string;
  en: string;
}

export const LABELS = {
  outageTitle: { zh: '视频监控设备停机报告', en: 'Camera outage report' },
  filingTitle: { zh: '视频监控点位备案清单', en: 'Camera filing report' },
  range: { zh: '统计期间', en: 'Period' },
  generatedAt: { zh: '生成时间', en: 'Generated' },
  profile: { zh: '适用规定', en: 'Regulation' },
  camera: { zh: '设备编码', en: 'Camera ID' },
  name: { zh: '设备名称', en: 'Name' },
  kind: { zh: '事件类型', en: 'Kind' },
  cause: { zh: '原因', en: 'Cause' },
  start: { zh: '开始时间', en: 'Start' },
  end: { zh: '结束时间', en: 'End' },
  duration: { zh: '持续时长', en: 'Duration' },
  planned: { zh: '计划维护', en: 'Planned' },
  ongoing: { zh: '仍在停机', en: 'ongoing' },
  yes: { zh: '是', en: 'yes' },
  no: { zh: '否', en: 'no' },
  stops: { zh: '停机记录', en: 'Stops' },
  uptime: { zh: '各设备在线率', en: 'Uptime per camera' },
  observed: { zh: '统计时长', en: 'Observed' },
  downtime: { zh: '非计划停机时长', en: 'Unplanned downtime' },
  plannedDowntime: { zh: '计划停机时长', en: 'Planned downtime' },
  uptimePercent: { zh: '在线率', en: 'Uptime' },
  outageCount: { zh: '停机次数', en: 'Stops' },
  maintenance: { zh: '计划维护时段', en: 'Maintenance windows' },
  allCameras: { zh: '全部设备', en: 'all cameras' },
  reason: { zh: '事由', en: 'Reason' },
  none: { zh: '无', en: 'none' },
  siteType: { zh: '场所类型', en: 'Site type' },
  address: { zh: '安装地址', en: 'Address' },
  location: { zh: '经纬度', en: 'Lat/Lon' },
  owner: { zh: '使用单位', en: 'Owner unit' },
  signage: { zh: '提示标识', en: 'Signage' },
  commissioned: { zh: '启用日期', en: 'Commissioned' },
  removed: { zh: '拆除日期', en: 'Removed' },
  commissioningDue: { zh: '启用备案期限', en: 'Commissioning filing due' },
  removalDue: { zh: '拆除备案期限', en: 'Removal filing due' },
  status: { zh: '备案状态', en: 'Filing status' },
  overdue: { zh: '已逾期', en: 'OVERDUE' },
  filed: { zh: '已备案', en: 'filed' },
  filedLate: { zh: '逾期备案', en: 'filed late' },
  due: { zh: '待备案', en: 'due' },
  notRequired: { zh: '无期限', en: 'no deadline' },
  deadlineRule: { zh: '备案期限依据', en: 'Deadline rule' },
  registerTitle: { zh: '视频图像信息调取登记表', en: 'Access register' },
  registerRows: { zh: '调取记录', en: 'Retrievals' },
  registerNo: { zh: '序号', en: 'No.' },
  method: { zh: '调取方式', en: 'Method' },
  tier: { zh: '视频类别', en: 'Tier' },
  recorder: { zh: '登记人', en: 'Recorder' },
  retriever: { zh: '调取人', en: 'Retriever' },
  purpose: { zh: '调取事由', en: 'Purpose' },
  destination: { zh: '去向', en: 'Destination' },
  footage: { zh: '调取视频时段', en: 'Footage range' },
  bytes: { zh: '数据量（字节）', en: 'Bytes' },
  basis: { zh: '审批单号或依据', en: 'Request or exemption' },
  client: { zh: '客户端地址', en: 'Client address' },
  publicRequestsTitle: { zh: '群众申请查阅视频图像信息登记表', en: 'Public requests for footage' },
  requestId: { zh: '申请编号', en: 'Request ID' },
  filedAt: { zh: '受理时间', en: 'Filed' },
  filedBy: { zh: '受理人', en: 'Filed by' },
  category: { zh: '申请类别', en: 'Category' },
  applicant: { zh: '申请人', en: 'Applicant' },
  relationship: { zh: '与当事人关系', en: 'Relationship' },
  idDocument: { zh: '身份证件', en: 'ID document' },
  cameras: { zh: '申请设备', en: 'Cameras' },
  footageRange: { zh: '申请时段', en: 'Footage range' },
  decision: { zh: '公安机关决定', en: 'Police decision' },
  decidedBy: { zh: '决定人', en: 'Decided by' },
  decidedAt: { zh: '决定时间', en: 'Decided' },
  accessRequest: { zh: '调取申请编号', en: 'Export request' },
  result: { zh: '处理结果', en: 'Result' },
  resultAt: { zh: '办结时间', en: 'Closed' },
  missing_person: { zh: '特殊群体人员走失', en: 'missing person' },
  own_rights: { zh: '维护自身合法权益', en: 'own lawful rights' },
  release: { zh: '同意提供', en: 'release' },
  refuse: { zh: '不予提供', en: 'refuse' },
  refer: { zh: '移交办理', en: 'refer' },
  handed_over: { zh: '已提供视频', en: 'footage handed over' },
  informed: { zh: '已告知结果', en: 'applicant informed' },
  nothing_found: { zh: '未发现相关图像', en: 'nothing found' },
  withdrawn: { zh: '申请人撤回', en: 'withdrawn' },
  pendingDecision: { zh: '待决定', en: 'pending' },
} as const satisfies Record<string, Label>;

export type LabelKey = keyof typeof LABELS;

export function label(key: LabelKey, lang: ReportLang): string {
  return pick(LABELS[key], lang);
}

function pick(l: Label, lang: ReportLang): string {
  if (lang === 'zh') return l.zh;
  if (lang === 'en') return l.en;
  return `${l.zh} ${l.en}`;
}

/** Causes and kinds in the reader's language; unknown ones (new incident kinds) as they are. */
const CAUSES: Record<string, Label> = {
  unreachable: { zh: '网络不通', en: 'unreachable' },
  credentials_refused: { zh: '账号密码被拒', en: 'credentials refused' },
  stream_stalled: { zh: '视频流中断', en: 'stream stalled' },
  decode_error: { zh: '视频无法解码', en: 'decode errors' },
  stream_not_found: { zh: '视频流不存在', en: 'stream not found' },
  connection_lost: { zh: '连接断开', en: 'connection lost' },
  gateway_error: { zh: '网关故障', en: 'gateway error' },
  camera_down: { zh: '设备离线', en: 'camera down' },
};

const REGISTER_TERMS: Record<string, Label> = {
  view_live: { zh: '实时查看', en: 'view live' },
  view_recorded: { zh: '回放查看', en: 'view recorded' },
  copy: { zh: '复制', en: 'copy' },
  export: { zh: '导出', en: 'export' },
  platform_play: { zh: '平台调用', en: 'platform play' },
  raw: { zh: '原始视频', en: 'raw' },
  shared: { zh: '共享视频（已遮挡）', en: 'shared (masked)' },
};

/** A register method or tier in the reader's language. */
export function registerTerm(term: string, lang: ReportLang): string {
  const l = REGISTER_TERMS[term];
  return l === undefined ? term : pick(l, lang);
}

export function causeLabel(cause: string, lang: ReportLang): string {
  const l = CAUSES[cause];
  return l === undefined ? cause : pick(l, lang);
}
