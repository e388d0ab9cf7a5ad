import { useEffect, useState } from 'preact/hooks';
import { isApiError, listCameras, type CameraItem } from '../api';
import { useI18n } from '../i18nContext';
import { LAYOUTS, gridSide, type Layout } from '../tileHealth';
import { Tile } from './Tile';

/** The cameras a tile can be given; the wall's own search and drag-and-drop come later. */
const CHOICES_LIMIT = 500;

export function WallPage({ onSessionLost }: { onSessionLost: () => void }) {
  const { t } = useI18n();
  const [layout, setLayout] = useState<Layout>(4);
  const [cameras, setCameras] = useState<CameraItem[]>([]);
  const [assigned, setAssigned] = useState<Array<string | null>>(Array.from({ length: 9 }, () => null));

  useEffect(() => {
    listCameras(0, CHOICES_LIMIT).then(
      (page) => setCameras(page.items),
      (err: unknown) => {
        if (isApiError(err) && err.status === 401) onSessionLost();
      },
    );
  }, []);

  const side = gridSide(layout);
  const assign = (tile: number, id: string) => setAssigned(assigned.map((a, i) => (i === tile ? (id === '' ? null : id) : a)));

  return (
    <section aria-labelledby="wall-heading" class="wall-page">
      <h2 id="wall-heading">{t('wall.heading')}</h2>
      <fieldset class="layouts">
        <legend>{t('wall.layout')}</legend>
        {LAYOUTS.map((n) => (
          <button key={n} type="button" aria-pressed={layout === n} data-layout={n} onClick={() => setLayout(n)}>
            {t('wall.layoutTiles', { n })}
          </button>
        ))}
      </fieldset>
      <div class={`wall grid-${side}`}>
        {assigned.slice(0, layout).map((id, i) => {
          const camera = cameras.find((c) => c.id === id) ?? null;
          return (
            <div class="slot" key={i}>
              <label>
                {t('wall.tile', { n: i + 1 })}
                <select value={id ?? ''} data-tile-select={i} onChange={(e) => assign(i, e.currentTarget.value)}>
                  <option value="">{t('wall.chooseCamera')}</option>
                  {cameras.map((c) => (
                    <option key={c.id} value={c.id} data-user-text>
                      {c.name}
                    </option>
                  ))}
                </select>
              </label>
              <Tile index={i} camera={camera === null ? null : { id: camera.id, name: camera.name }} onSessionLost={onSessionLost} />
            </div>
          );
        })}
      </div>
    </section>
  );
}
