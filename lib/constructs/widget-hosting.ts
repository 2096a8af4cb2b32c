/**
 * Optional hosting of the widget bundle (`-c widgetHosting=true`): a private S3 bucket read only by
 * CloudFront through origin access control, HTTPS only, a response-headers policy with the API's
 * security headers, access logs for both, and the bundle built from `widget/src` at synth.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type IBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { bundleWidgetSync } from '../../widget/build.js';

/** The object key of the bundle, and so the script URL's path. */
export const WIDGET_OBJECT_KEY = 'widget.js';

/** Props of `WidgetHosting`. */
export interface WidgetHostingProps {
  /**
   * Whether deleting the stack deletes the buckets and their objects.
   * @default false
   */
  readonly destroyOnRemoval?: boolean;
  /**
   * Days the S3 and CloudFront access logs are kept.
   * @default 90
   */
  readonly logRetentionDays?: number;
  /**
   * How long browsers and CloudFront may cache the bundle; each deployment invalidates CloudFront's copy.
   * @default Duration.minutes(5)
   */
  readonly browserCacheMaxAge?: Duration;
  /**
   * The bundle's source text.
   * @default the widget built from `widget/src` with esbuild
   */
  readonly bundle?: string;
}

/** The widget bundle behind CloudFront. */
export class WidgetHosting extends Construct {
  /** The URL to put in the embed snippet's `src`. */
  readonly scriptUrl: string;
  readonly bucket: IBucket;
  readonly distribution: Distribution;
  /** Copies the bundle into the bucket and invalidates CloudFront's copy on each deployment. */
  readonly deployment: BucketDeployment;

  constructor(scope: Construct, id: string, props: WidgetHostingProps = {}) {
    super(scope, id);
    // S3 server access logs are delivered under a bucket policy (logging.s3.amazonaws.com with
    // aws:SourceAccount/SourceArn), not the legacy `LogDeliveryWrite` canned ACL (cfn-lint W3045).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const removal = props.destroyOnRemoval
      ? { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true }
      : { removalPolicy: RemovalPolicy.RETAIN };
    const privateBucket = {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      ...removal,
    };
    const logs = new Bucket(this, 'Logs', {
      ...privateBucket,
      // CloudFront standard logging writes with an ACL.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(props.logRetentionDays ?? 90) }],
    });
    const bucket = new Bucket(this, 'Bucket', {
      ...privateBucket,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 's3/',
    });

    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Security headers of the chat widget bundle',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'", override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
      customHeadersBehavior: {
        customHeaders: [
          { header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()', override: true },
          // Lets any page load the script, including pages that set Cross-Origin-Embedder-Policy.
          { header: 'Cross-Origin-Resource-Policy', value: 'cross-origin', override: true },
        ],
      },
      removeHeaders: ['Server'],
    });

    const distribution = new Distribution(this, 'Distribution', {
      comment: 'Chat widget bundle',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });

    this.deployment = new BucketDeployment(this, 'Deploy', {
      sources: [Source.data(WIDGET_OBJECT_KEY, props.bundle ?? bundleWidgetSync())],
      destinationBucket: bucket,
      contentType: 'text/javascript; charset=utf-8',
      cacheControl: [CacheControl.setPublic(), CacheControl.maxAge(props.browserCacheMaxAge ?? Duration.minutes(5))],
      distribution,
      distributionPaths: [`/${WIDGET_OBJECT_KEY}`],
    });

    this.bucket = bucket;
    this.distribution = distribution;
    this.scriptUrl = `https://${distribution.distributionDomainName}/${WIDGET_OBJECT_KEY}`;
  }
}
