import { TestPlatform } from './support/test-platform';

describe('platform smoke', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start();
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('runs a processing task from POST to SUCCESS', async () => {
    const id = await platform.submit('process', { data: { records: 3 } });
    const task = await platform.waitForTask(id, 'SUCCESS');
    expect(task.result).toMatchObject({ status: 'completed', records_processed: 3 });
  });
});
