/**
 * The alarms an operator is paged by, all to one SNS topic:
 *  - a dead letter waits (either DLQ, any message, one minute);
 *  - a saga is stuck (eventticket_sagas_stuck > 0 for 3 minutes, published by the API's CloudWatch
 *    agent; a missing metric also alarms: an unseen stuck saga is what this alarm exists to prevent);
 *  - a work queue's oldest message is too old (5 min; the timer queue 20 min: its timers wait up to
 *    900 s a hop by design);
 *  - the API answers 5xx (any target 5xx is a bug: one in a minute alarms; the ALB's own 5xx,
 *    no healthy target, from 5 in a minute).
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { Data } from './data';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, type Services } from './services';

export interface AlarmsProps {
  data: Data;
  services: Services;
  /** Encrypts the topic (CloudWatch may use it: see the key policy in ./stack.ts). */
  topicKey: kms.IKey;
  /** Subscribed to the topic when given. */
  email?: string;
}

export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cw.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { data, services } = props;
    this.topic = new sns.Topic(this, 'Topic', { masterKey: props.topicKey, enforceSSL: true });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    const minute = Duration.minutes(1);
    const add = (name: string, alarm: cw.Alarm) => {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
      this.alarms.push(alarm);
      return name;
    };

    for (const key of ['dlq', 'dlqFifo'] as const) {
      const queue = data.queues[key];
      add(
        key,
        new cw.Alarm(this, `DeadLetters-${key}`, {
          alarmDescription: `Dead letters wait in ${queue.queueName}: see GET /ops/dlq (docs/operations.md)`,
          metric: queue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: cw.Stats.MAXIMUM }),
          threshold: 1,
          comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    add(
      'stuck',
      new cw.Alarm(this, 'StuckSagas', {
        alarmDescription: 'Sagas idle past their state threshold (GET /ops/sagas/stuck), or the metric is missing',
        metric: new cw.Metric({
          namespace: METRIC_NAMESPACE,
          metricName: 'eventticket_sagas_stuck',
          dimensionsMap: METRIC_DIMENSIONS,
          period: minute,
          statistic: cw.Stats.MAXIMUM,
        }),
        threshold: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cw.TreatMissingData.BREACHING,
      }),
    );

    for (const key of ['inventory', 'payment', 'notification', 'timer', 'saga'] as const) {
      const queue = data.queues[key];
      const limit = key === 'timer' ? 1200 : 300;
      add(
        key,
        new cw.Alarm(this, `OldestMessage-${key}`, {
          alarmDescription: `The oldest message in ${queue.queueName} waits more than ${limit} s`,
          metric: queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: cw.Stats.MAXIMUM }),
          threshold: limit,
          comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const lb = services.api.loadBalancer;
    add(
      'target5xx',
      new cw.Alarm(this, 'Api5xx', {
        alarmDescription: 'The API answered 5xx (a 5xx is a bug: see the logs by correlation id)',
        metric: lb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
          period: minute,
          statistic: cw.Stats.SUM,
        }),
        threshold: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      }),
    );
    add(
      'elb5xx',
      new cw.Alarm(this, 'Alb5xx', {
        alarmDescription: 'The load balancer answered 5xx itself (no healthy API task, or none in time)',
        metric: lb.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute, statistic: cw.Stats.SUM }),
        threshold: 5,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
