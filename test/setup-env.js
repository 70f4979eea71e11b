// Quiet the AWS SDK's Node 20 notice and keep test logs terse.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.LOG_LEVEL = process.env.LOG_LEVEL || 'warn';
