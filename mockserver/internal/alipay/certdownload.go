package alipay

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// certDownloadNode is the success node of alipay.open.app.alipaycert.download:
// alipay_cert_content is the certificate file (PEM) in base64 ("公钥证书
// Base64后的字符串", alipay-sdk-java-all AlipayOpenAppAlipaycertDownloadResponse);
// the SDKs base64-decode it and read the PEM (smartwalle/alipay
// downloadAliPayCert, the Java SDK's certificate refresh).
type certDownloadNode struct {
	Code    Code   `json:"code"`
	Msg     string `json:"msg"`
	Content string `json:"alipay_cert_content"`
}

// alipay.open.app.alipaycert.download, biz_content {"alipay_cert_sn"}: the
// Alipay certificate the mock issued to this (certificate-mode) app. Any
// other SN — and any SN for a public-key app — answers 40004
// isv.alipay-cert-not-exist (UNCONFIRMED code); a missing one 40004
// INVALID_PARAMETER.
func (e *Emulator) serveCertDownload(q *call) {
	var biz struct {
		SN string `json:"alipay_cert_sn"`
	}
	raw := q.p["biz_content"]
	if raw == "" || json.Unmarshal([]byte(raw), &biz) != nil || strings.TrimSpace(biz.SN) == "" {
		q.fail(CodeBusinessFailed, SubParamIllegal, "alipay_cert_sn不能为空")
		return
	}
	c := q.keys.certs
	if c == nil || biz.SN != c.alipaySN {
		q.fail(CodeBusinessFailed, SubAlipayCertNotExist, "")
		return
	}
	q.reply(CodeSuccess, certDownloadNode{Code: CodeSuccess, Msg: CodeSuccess.Message(),
		Content: base64.StdEncoding.EncodeToString([]byte(c.alipayCertPEM))})
}
