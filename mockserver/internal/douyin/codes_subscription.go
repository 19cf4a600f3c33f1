package douyin

// Codes of the subscription APIs under /api/notification/v2/subscription/
// (template management, query_user_subscribe, notify_user), in the
// open.douyin.com shape {"err_no","err_msg","log_id","data"}, HTTP 200.
//
// What the docs give (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/subscribe-notification/…):
//   - add_app_tpl, delete_app_tpl, query_created_tpl_list: 28001038 参数错误
//     (their example error), 28001005 系统内部错误, 28001003 / 28001008 token,
//     28001016 app banned or offline, 28001006 network error;
//   - query_user_subscribe: 28014001 参数错误, 28001005, and the example
//     error 28001003 "access_token无效";
//   - notify_user: its own table was never retrievable (every archived copy
//     ends before it). 28014043 用户未订阅该模板 is documented for the
//     mini-game v1 notify of the same service. 28014036 and 28014041 come
//     from one unattributed note only: UNCONFIRMED, never produced by the
//     mock's rules, injectable as faults.
const (
	CodeNetwork         ErrNo = 28001006 // 网络调用错误 (retry)
	CodeAppBanned       ErrNo = 28001016 // 应用已被封禁或下线 (faults only)
	CodeParamError      ErrNo = 28001038 // 参数错误: template management's documented parameter error
	CodeSubscribeParams ErrNo = 28014001 // 参数错误: query_user_subscribe's documented parameter error
	CodeUserRejected    ErrNo = 28014036 // 用户拒收 (UNCONFIRMED, faults only)
	CodeTemplateQuota   ErrNo = 28014041 // 配额已用完: the template's message quota (UNCONFIRMED, faults only)
)
