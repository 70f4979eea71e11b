#!/usr/bin/env python3
"""Parity check: TransactWriteItems edge cases give identical responses and identical table
contents on the patched emulator (:4566) and on plain moto served by `scripts/emulator.py --port 4567
--unpatched`. Prints SAME/DIFF per case, for hash-only and hash+range tables."""
import boto3, json, sys, uuid
from botocore.config import Config
from botocore.exceptions import ClientError
def run(ep):
    ddb = boto3.client("dynamodb", endpoint_url=ep, aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1", config=Config(retries={"max_attempts":1}))
    out=[]
    for rk in (False, True):
        name="par-"+uuid.uuid4().hex[:6]
        ks=[{"AttributeName":"pk","KeyType":"HASH"}]+([{"AttributeName":"sk","KeyType":"RANGE"}] if rk else [])
        ad=[{"AttributeName":"pk","AttributeType":"S"}]+([{"AttributeName":"sk","AttributeType":"S"}] if rk else [])
        ddb.create_table(TableName=name,KeySchema=ks,AttributeDefinitions=ad,BillingMode="PAY_PER_REQUEST")
        def K(p): return {"pk":{"S":p},**({"sk":{"S":"s"}} if rk else {})}
        for p in "XYW": ddb.put_item(TableName=name, Item={**K(p),"n":{"N":"5"}})
        def snap():
            return sorted(json.dumps(i,sort_keys=True) for i in ddb.scan(TableName=name)["Items"])
        cases = {
         "cancel": [{"Put":{"TableName":name,"Item":{**K("Z"),"n":{"N":"1"}}}},
                    {"Update":{"TableName":name,"Key":K("X"),"UpdateExpression":"ADD n :o","ExpressionAttributeValues":{":o":{"N":"1"}}}},
                    {"ConditionCheck":{"TableName":name,"Key":K("Y"),"ConditionExpression":"n = :b","ExpressionAttributeValues":{":b":{"N":"99"}},"ReturnValuesOnConditionCheckFailure":"ALL_OLD"}},
                    {"Delete":{"TableName":name,"Key":K("W")}}],
         "cancel_missing_item_cond": [{"Update":{"TableName":name,"Key":K("Q"),"UpdateExpression":"SET n = :o","ConditionExpression":"attribute_exists(pk)","ExpressionAttributeValues":{":o":{"N":"1"}},"ReturnValuesOnConditionCheckFailure":"ALL_OLD"}},
                    {"Update":{"TableName":name,"Key":K("X"),"UpdateExpression":"ADD n :o","ExpressionAttributeValues":{":o":{"N":"1"}}}}],
         "dup": [{"Update":{"TableName":name,"Key":K("X"),"UpdateExpression":"ADD n :o","ExpressionAttributeValues":{":o":{"N":"1"}}}},
                 {"Delete":{"TableName":name,"Key":K("X")}}],
         "keyupdate": [{"Put":{"TableName":name,"Item":{**K("Z"),"n":{"N":"1"}}}},
                    {"Update":{"TableName":name,"Key":K("X"),"UpdateExpression":"SET pk = :o","ExpressionAttributeValues":{":o":{"S":"zz"}}}}],
         "typeerr_plus_cancel": [{"ConditionCheck":{"TableName":name,"Key":K("Y"),"ConditionExpression":"n = :b","ExpressionAttributeValues":{":b":{"N":"99"}}}},
                    {"Put":{"TableName":name,"Item":{**K("Z"),"n":{"N":"1"}}}},
                    {"Update":{"TableName":name,"Key":K("X"),"UpdateExpression":"SET n = n + :o","ExpressionAttributeValues":{":o":{"S":"str"}}}}],
         "newitem_then_validation": [{"Update":{"TableName":name,"Key":K("NEW"),"UpdateExpression":"SET n = :o","ExpressionAttributeValues":{":o":{"N":"1"}}}},
                    {"Update":{"TableName":name,"Key":K("X"),"UpdateExpression":"SET n = n + :o","ExpressionAttributeValues":{":o":{"S":"str"}}}}],
         "missing_table": [{"Put":{"TableName":"nope-"+name,"Item":{"pk":{"S":"a"}}}},{"Update":{"TableName":name,"Key":K("X"),"UpdateExpression":"ADD n :o","ExpressionAttributeValues":{":o":{"N":"1"}}}}],
         "ok": [{"Put":{"TableName":name,"Item":{**K("Z"),"n":{"N":"1"}}}},
                    {"Update":{"TableName":name,"Key":K("X"),"UpdateExpression":"ADD n :o","ConditionExpression":"n = :f","ExpressionAttributeValues":{":o":{"N":"1"},":f":{"N":"5"}}}},
                    {"ConditionCheck":{"TableName":name,"Key":K("Y"),"ConditionExpression":"n = :b","ExpressionAttributeValues":{":b":{"N":"5"}}}},
                    {"Delete":{"TableName":name,"Key":K("W")}}],
        }
        for cname, items in cases.items():
            try:
                ddb.transact_write_items(TransactItems=items); r="OK"
            except ClientError as e:
                r={k:v for k,v in e.response.items() if k!="ResponseMetadata"}
            out.append((rk,cname, r, snap()))
        ddb.delete_table(TableName=name)
    return out
a=run("http://127.0.0.1:4566"); b=run("http://127.0.0.1:4567")
for x,y in zip(a,b):
    print(x[0], x[1], "SAME" if x[2:]==y[2:] else "DIFF", json.dumps(x[2])[:300])
    if x[2:]!=y[2:]: print("   unpatched:", json.dumps(y[2])[:300]); print("  ", x[3]==y[3])
