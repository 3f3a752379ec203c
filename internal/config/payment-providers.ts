import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * WeChat Pay (APIv3) merchant settings. Keys are read from files (mounted secrets); the APIv3 key is a
 * secret string set from the environment (QIANFAN_PAYMENT__WECHATPAY__API_V3_KEY). The platform's key
 * that signs responses and notifications is either its certificate (certificate mode) or the public key
 * WeChat Pay issues with an id `PUB_KEY_ID_…` (public-key mode).
 */
export const wechatpaySchema = z
  .strictObject({
    mchId: z.string().default(''),
    appId: z.string().default(''),
    apiV3Key: z.string().default(''),
    merchantSerialNo: z.string().default(''),
    merchantPrivateKeyFile: z.string().default(''),
    platformCertificateFile: z.string().default(''),
    platformPublicKeyId: z.string().default(''),
    platformPublicKeyFile: z.string().default(''),
    endpoint: z.url().default('https://api.mch.weixin.qq.com/'),
    notifyUrl: z.string().default(''),
  })
  .default({
    mchId: '',
    appId: '',
    apiV3Key: '',
    merchantSerialNo: '',
    merchantPrivateKeyFile: '',
    platformCertificateFile: '',
    platformPublicKeyId: '',
    platformPublicKeyFile: '',
    endpoint: 'https://api.mch.weixin.qq.com/',
    notifyUrl: '',
  });

/**
 * Alipay (open platform, RSA2) app settings, public-key mode: the app's private key and Alipay's public
 * key, both from files. Certificate mode (appCertFile + alipayRootCertFile + alipayPublicCertFile) is
 * taken instead when its three files are given.
 */
export const alipaySchema = z
  .strictObject({
    appId: z.string().default(''),
    privateKeyFile: z.string().default(''),
    alipayPublicKeyFile: z.string().default(''),
    appCertFile: z.string().default(''),
    alipayRootCertFile: z.string().default(''),
    alipayPublicCertFile: z.string().default(''),
    endpoint: z.url().default('https://openapi.alipay.com/gateway.do'),
    notifyUrl: z.string().default(''),
  })
  .default({
    appId: '',
    privateKeyFile: '',
    alipayPublicKeyFile: '',
    appCertFile: '',
    alipayRootCertFile: '',
    alipayPublicCertFile: '',
    endpoint: 'https://openapi.alipay.com/gateway.do',
    notifyUrl: '',
  });

export type WechatpayConfig = z.infer<typeof wechatpaySchema>;
export type AlipayConfig = z.infer<typeof alipaySchema>;

type Problem = [path: string[], message: string];

/** Why a key file cannot be used, or undefined. */
function keyFileProblem(file: string, kind: 'private' | 'public' | 'certificate'): string | undefined {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  try {
    if (kind === 'private') createPrivateKey(pem);
    else if (kind === 'public') createPublicKey(pem);
    else new X509Certificate(pem);
    return undefined;
  } catch {
    return `${file} does not hold a PEM ${kind === 'certificate' ? 'certificate' : `${kind} key`}`;
  }
}

/** Every missing or unusable setting of a listed provider, each naming its key. */
export function providerConfigProblems(
  providers: string[],
  wx: WechatpayConfig,
  ali: AlipayConfig,
  production: boolean,
): Problem[] {
  const out: Problem[] = [];
  const need = (section: string, key: string, value: string, hint = '') => {
    if (value.trim() === '')
      out.push([['payment', section, key], `is required when payment.providers lists ${section}${hint}`]);
  };
  const file = (section: string, key: string, value: string, kind: 'private' | 'public' | 'certificate') => {
    if (value === '') return;
    const p = keyFileProblem(value, kind);
    if (p) out.push([['payment', section, key], p]);
  };
  const https = (section: string, key: string, value: string) => {
    if (production && value !== '' && !value.startsWith('https://'))
      out.push([['payment', section, key], 'must be an https:// URL outside dev and test']);
  };
  if (providers.includes('wechatpay')) {
    for (const key of [
      'mchId',
      'appId',
      'apiV3Key',
      'merchantSerialNo',
      'merchantPrivateKeyFile',
      'notifyUrl',
    ] as const)
      need('wechatpay', key, wx[key]);
    if (wx.apiV3Key !== '' && Buffer.byteLength(wx.apiV3Key) !== 32)
      out.push([['payment', 'wechatpay', 'apiV3Key'], 'must be the 32-byte APIv3 key from the merchant platform']);
    const publicKeyMode = wx.platformPublicKeyId !== '' || wx.platformPublicKeyFile !== '';
    if (publicKeyMode) {
      need('wechatpay', 'platformPublicKeyId', wx.platformPublicKeyId, ' in public-key mode');
      need('wechatpay', 'platformPublicKeyFile', wx.platformPublicKeyFile, ' in public-key mode');
    } else {
      need(
        'wechatpay',
        'platformCertificateFile',
        wx.platformCertificateFile,
        ' (or platformPublicKeyId + platformPublicKeyFile)',
      );
    }
    file('wechatpay', 'merchantPrivateKeyFile', wx.merchantPrivateKeyFile, 'private');
    file('wechatpay', 'platformCertificateFile', wx.platformCertificateFile, 'certificate');
    file('wechatpay', 'platformPublicKeyFile', wx.platformPublicKeyFile, 'public');
    https('wechatpay', 'endpoint', wx.endpoint);
    https('wechatpay', 'notifyUrl', wx.notifyUrl);
  }
  if (providers.includes('alipay')) {
    for (const key of ['appId', 'privateKeyFile', 'notifyUrl'] as const) need('alipay', key, ali[key]);
    const certMode = ali.appCertFile !== '' || ali.alipayRootCertFile !== '' || ali.alipayPublicCertFile !== '';
    if (certMode) {
      for (const key of ['appCertFile', 'alipayRootCertFile', 'alipayPublicCertFile'] as const)
        need('alipay', key, ali[key], ' in certificate mode');
      file('alipay', 'appCertFile', ali.appCertFile, 'certificate');
      file('alipay', 'alipayPublicCertFile', ali.alipayPublicCertFile, 'certificate');
    } else {
      need('alipay', 'alipayPublicKeyFile', ali.alipayPublicKeyFile, ' (or the three certificate files)');
      file('alipay', 'alipayPublicKeyFile', ali.alipayPublicKeyFile, 'public');
    }
    file('alipay', 'privateKeyFile', ali.privateKeyFile, 'private');
    https('alipay', 'endpoint', ali.endpoint);
    https('alipay', 'notifyUrl', ali.notifyUrl);
  }
  return out;
}
