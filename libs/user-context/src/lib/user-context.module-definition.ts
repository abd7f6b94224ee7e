import { ConfigurableModuleBuilder } from '@nestjs/common';

import { USER_CONTEXT_OPTIONS } from './user-context.constants';
import { UserContextModuleOptions } from './user-context.options';

export const {
  ConfigurableModuleClass: ConfigurableUserContextModule,
  OPTIONS_TYPE: USER_CONTEXT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: USER_CONTEXT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<UserContextModuleOptions>({
  optionsInjectionToken: USER_CONTEXT_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
