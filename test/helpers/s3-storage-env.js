// Jest setup for the "s3-storage" project: the SDK suite again, with LanceDB on s3+ddb://.
process.env.S3V_TEST_STORAGE = 's3';
