// A Lambda-style Node.js handler: deploy it as is to AWS Lambda or to modelfn.
// Module-level code runs once per instance (a real function loads its model here).
const startedAt = new Date().toISOString();

exports.handler = async (event, context) => {
  // Through a route the event is an API Gateway 2.0 event with the request body in event.body;
  // through `modelfn invoke` it is the JSON you sent.
  const input = typeof event.body === 'string' ? JSON.parse(event.body || '{}') : event;
  const name = typeof input.name === 'string' ? input.name : 'world';
  console.log(`greeting ${name}`);
  return {
    message: `hello, ${name}`,
    requestId: context.awsRequestId,
    instanceStartedAt: startedAt,
  };
};
